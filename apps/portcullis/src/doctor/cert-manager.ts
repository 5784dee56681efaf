/**
 * The parts of cert-manager's Certificate (cert-manager.io/v1) the doctor
 * reads, typed after the CRD (deploy/crds/cert-manager.io_certificates.yaml).
 */
export interface CertificateCondition {
  type: 'Ready' | 'Issuing' | string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Certificate {
  apiVersion: 'cert-manager.io/v1';
  kind: 'Certificate';
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: {
    secretName: string;
    dnsNames?: string[];
    issuerRef: { name: string; kind?: string; group?: string };
    duration?: string;
    renewBefore?: string;
  };
  status?: {
    conditions?: CertificateCondition[];
    notAfter?: string;
    notBefore?: string;
    renewalTime?: string;
    failedIssuanceAttempts?: number;
  };
}

export interface CertificateList {
  items: Certificate[];
}

export const CERT_MANAGER = { group: 'cert-manager.io', version: 'v1', plural: 'certificates' } as const;
