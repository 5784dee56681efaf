import type { AdminHandler, Logger } from '@portcullis/telemetry';
import type { LoginLockout } from './lockout.js';

/** GET /admin/bans lists the bans of every replica; DELETE /admin/bans/<ip> lifts one everywhere. */
export function bansAdmin(lockout: LoginLockout, log: Logger): AdminHandler {
  return async ({ method, path }) => {
    if (method === 'GET' && path.length === 0) return { status: 200, body: { bans: await lockout.listBans() } };
    if (method === 'DELETE' && path.length === 1) {
      const ip = path[0]!;
      const lifted = await lockout.liftBan(ip);
      log.warn({ ip, lifted }, 'ban lifted by the operator');
      return { status: lifted ? 200 : 404, body: { ip, lifted } };
    }
    return { status: 405, body: { error: 'GET /admin/bans or DELETE /admin/bans/<ip>' } };
  };
}
