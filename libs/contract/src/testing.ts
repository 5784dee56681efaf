import type { Envelope, MailMeta } from './record.js';

/**
 * A valid record's metadata for tests in any package, with only what a test
 * cares about overridden (`@portcullis/contract/testing`; never imported by
 * service code).
 */
export function sampleMeta(overrides: Partial<Omit<MailMeta, 'envelope'>> & { envelope?: Partial<Envelope> } = {}): MailMeta {
  const { envelope, ...rest } = overrides;
  return {
    v: 1,
    id: '01J0000000ABCDEFGHJKMNPQRS',
    size: 0,
    envelope: {
      listener: 'mx',
      client: { ip: '192.0.2.1', port: 40000 },
      helo: 'client.example.net',
      tls: null,
      auth: null,
      mailFrom: 'sender@example.net',
      body: '7BIT',
      smtputf8: false,
      rcptTo: ['user@example.test'],
      receivedAt: '2030-01-01T00:00:00.000Z',
      ...envelope,
    },
    results: [],
    ...rest,
  };
}
