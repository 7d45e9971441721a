/**
 * What the site's edge says about TLS, shared by the load balancer (components/edge.ts) and the one-machine
 * stack's edge (local/services/edge.ts), so that the local site is as strict as the real one.
 */

/** Browsers that have seen the site once never try it over plain HTTP for a year (nor its subdomains: media). */
export const HSTS_HEADER = "max-age=31536000; includeSubDomains";

/**
 * The TLS 1.2 suites of ELBSecurityPolicy-TLS13-1-2-Res-2021-06 in OpenSSL's names: ECDHE with AES-GCM only
 * (forward secrecy, AEAD; no CBC). TLS 1.3's suites are all AEAD.
 */
export const EDGE_TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
