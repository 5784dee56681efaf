import { z } from 'zod';

/** Building blocks shared by the config sections. */
export const Port = z.number().int().min(0).max(65535);
export const Listen = z.strictObject({ host: z.string().min(1), port: Port });
/** A domain name as written in config: lower-cased, no trailing dot. */
export const DomainName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/i, 'not a domain name')
  .transform((d) => d.toLowerCase());

export const DownstreamTls = z.enum(['none', 'opportunistic', 'required', 'verify']);

export const Downstream = z.strictObject({
  host: z.string().min(1),
  port: Port.default(25),
  /**
   * none: never STARTTLS; opportunistic: STARTTLS when offered, any certificate;
   * required: STARTTLS or fail, any certificate; verify: STARTTLS with a certificate valid for host.
   */
  tls: DownstreamTls.default('opportunistic'),
});

export const Cidr = z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32');
export const IpOrCidr = z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'expected an address or CIDR');
