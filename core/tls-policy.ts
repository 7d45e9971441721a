/**
 * What the site's edge says about TLS, shared by the load balancer (components/edge.ts) and the one-machine
 * stack's edge (local/services/edge.ts), so that the local site is as strict as the real one.
 */

export const HSTS_MAX_AGE_S = 31_536_000;
/** Browsers that have seen the site once never try it over plain HTTP for a year (nor its subdomains: media). */
export const HSTS_HEADER = `max-age=${HSTS_MAX_AGE_S}; includeSubDomains`;

/**
 * What a photo is served with besides its bytes, by the CDN (components/media.ts) and the local edge: no
 * browser may sniff it into another type, and one opened directly runs nothing (a sandbox that loads nothing).
 */
export const PHOTO_CSP = "default-src 'none'; sandbox";

/**
 * The TLS 1.2 suites of ELBSecurityPolicy-TLS13-1-2-Res-2021-06 in OpenSSL's names: ECDHE with AES-GCM only
 * (forward secrecy, AEAD; no CBC). TLS 1.3's suites are all AEAD.
 */
export const EDGE_TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
