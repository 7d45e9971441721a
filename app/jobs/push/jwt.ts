/**
 * JSON Web Tokens as APNs (ES256 provider tokens) and Google's OAuth2 JWT bearer grant (RS256) want them:
 * base64url(header).base64url(claims).base64url(signature), signed with node's crypto (no library needed).
 * ES256 signatures are the raw 64-byte r||s form (RFC 7518 §3.4), not DER.
 */
import { createPrivateKey, KeyObject, sign } from "crypto";

export type JwtAlgorithm = "ES256" | "RS256";

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export function signJwt(alg: JwtAlgorithm, key: KeyObject | string, claims: Record<string, unknown>, header: Record<string, string> = {}): string {
    const k = typeof key === "string" ? createPrivateKey(key) : key;
    const input = `${b64url(JSON.stringify({ alg, typ: "JWT", ...header }))}.${b64url(JSON.stringify(claims))}`;
    const signature = alg === "ES256" ? sign("sha256", Buffer.from(input), { key: k, dsaEncoding: "ieee-p1363" }) : sign("sha256", Buffer.from(input), k);
    return `${input}.${b64url(signature)}`;
}
