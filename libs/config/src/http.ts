import { z } from 'zod';
import { Listen } from './common.js';

/**
 * The operator's API (/admin/...: bans, quarantine, trace). Off by default, and then nothing
 * listens for it. On, it has a listener of its own, never the health and metrics one, so that a
 * network policy can let monitoring scrape metrics without letting it reach the admin API.
 */
const Admin = z
  .strictObject({
    enabled: z.boolean().default(false),
    listen: Listen.default({ host: '127.0.0.1', port: 8026 }),
    /**
     * File holding the bearer token (a mounted Secret). Read again at each request, so a rotated
     * Secret takes effect without a restart.
     */
    tokenFile: z.string().min(1).optional(),
  })
  .refine((a) => !a.enabled || a.tokenFile, { message: 'required when http.admin.enabled is true', path: ['tokenFile'] });

const Http = z
  .strictObject({
    /** /healthz, /readyz (the kubelet's probes) and /metrics (Prometheus). */
    listen: Listen.default({ host: '127.0.0.1', port: 8025 }),
    admin: Admin.prefault({}),
    /**
     * The key of the single-port days. Refused with directions rather than ignored or aliased: the
     * admin API now listens on a port of its own, so scripts and network policies have to change too.
     */
    adminTokenFile: z
      .never({
        error: 'moved to http.admin.tokenFile (with http.admin.enabled: true); the admin API now has a listener of its own, http.admin.listen (default 127.0.0.1:8026)',
      })
      .optional(),
  })
  .refine((h) => !h.admin.enabled || h.admin.listen.port !== h.listen.port || h.admin.listen.port === 0, {
    message: 'must be another port than http.listen (the admin API never shares the metrics port)',
    path: ['admin', 'listen', 'port'],
  });

export const httpSections = {
  http: Http.prefault({}),
};
