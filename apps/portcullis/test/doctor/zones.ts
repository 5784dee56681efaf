/** Test zones: good.test is published as NOTES.txt says; bad.test gets every record wrong. */
export const LB = '192.0.2.10';
export const DKIM_KEY = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwx3p';
export const ZONES = {
  zones: ['good.test', 'bad.test'],
  mx: [['good.test', 'mx1.good.test', 10], ['bad.test', 'mail.elsewhere.test', 10]] as [string, string, number][],
  a: [['mx1.good.test', LB], ['mail.elsewhere.test', '198.51.100.7']] as [string, string][],
  txt: [
    ['good.test', 'v=spf1 mx -all'],
    ['_dmarc.good.test', 'v=DMARC1; p=reject; rua=mailto:dmarc@good.test'],
    ['s2026._domainkey.good.test', `v=DKIM1; k=rsa; p=${DKIM_KEY}`],
    ['_mta-sts.good.test', 'v=STSv1; id=20260101T000000'],
    ['bad.test', 'v=spf1 -all'],
    ['bad.test', 'v=spf1 mx -all'],
    ['_dmarc.bad.test', 'v=DMARC1; pct=100'],
  ] as [string, string][],
};
