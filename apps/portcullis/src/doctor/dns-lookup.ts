import type { DnsResolver, DnsType } from '@portcullis/dns';

/**
 * The look-ups the doctor makes, on the same DNS layer the services use (libs/dns: timeouts,
 * NXDOMAIN and NODATA as answers). "Not found" answers are empty lists; a server that fails
 * or does not answer is an error (DnsTempError), never "no record".
 */
export interface DoctorDns {
  mx(name: string): Promise<{ exchange: string; priority: number }[]>;
  txt(name: string): Promise<string[]>;
  addresses(name: string): Promise<string[]>;
}

export function doctorDns(resolver: DnsResolver): DoctorDns {
  const records = async <T extends DnsType>(name: string, type: T) => {
    const answer = await resolver.query(name, type);
    return answer.status === 'ok' ? answer.records : [];
  };
  return {
    mx: (name) => records(name, 'MX'),
    txt: (name) => records(name, 'TXT'),
    addresses: async (name) => {
      const [v4, v6] = await Promise.all([records(name, 'A'), records(name, 'AAAA')]);
      return [...v4, ...v6];
    },
  };
}
