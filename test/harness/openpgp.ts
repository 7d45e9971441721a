/**
 * Just enough OpenPGP (RFC 4880) to check a shipped apt key offline: the armor's checksum and the primary key's
 * V4 fingerprint (SHA-1 over 0x99, the key packet body's two-byte length and the body), without gpg.
 */
import * as crypto from "crypto";

/** CRC-24 of the armor's checksum line (RFC 4880 6.1). */
function crc24(data: Buffer): number {
    let crc = 0xb704ce;
    for (const byte of data) {
        crc ^= byte << 16;
        for (let i = 0; i < 8; i++) {
            crc <<= 1;
            if (crc & 0x1000000) crc ^= 0x1864cfb;
        }
    }
    return crc & 0xffffff;
}

/** The binary packets of an ASCII-armored public key block; throws if the armor or its checksum is wrong. */
export function dearmor(armored: string): Buffer {
    const lines = armored.trim().split(/\r?\n/);
    if (lines[0] !== "-----BEGIN PGP PUBLIC KEY BLOCK-----" || lines[lines.length - 1] !== "-----END PGP PUBLIC KEY BLOCK-----") throw new Error("not an armored public key block");
    const body = lines.slice(1, -1);
    const blank = body.indexOf("");
    if (blank < 0) throw new Error("the armor has no blank line after its headers");
    const data = body.slice(blank + 1);
    const checksum = data.at(-1)?.startsWith("=") ? data.pop()!.slice(1) : undefined;
    const bytes = Buffer.from(data.join(""), "base64");
    if (checksum !== undefined && Buffer.from(checksum, "base64").readUIntBE(0, 3) !== crc24(bytes)) throw new Error("the armor's CRC-24 does not match its data");
    return bytes;
}

/** The V4 fingerprint (40 upper-case hex digits) of the first packet, which must be a version 4 public key. */
export function primaryKeyFingerprint(armored: string): string {
    const bytes = dearmor(armored);
    const header = bytes[0];
    if (!(header & 0x80)) throw new Error("not an OpenPGP packet");
    let tag: number;
    let length: number;
    let offset: number;
    if (header & 0x40) {
        // New format: one, two or five length octets.
        tag = header & 0x3f;
        const first = bytes[1];
        if (first < 192) [length, offset] = [first, 2];
        else if (first < 224) [length, offset] = [((first - 192) << 8) + bytes[2] + 192, 3];
        else if (first === 255) [length, offset] = [bytes.readUInt32BE(2), 6];
        else throw new Error("a partial-length key packet");
    } else {
        tag = (header >> 2) & 0x0f;
        const lengthOctets = [1, 2, 4][header & 0x03];
        if (lengthOctets === undefined) throw new Error("an indeterminate-length key packet");
        [length, offset] = [bytes.readUIntBE(1, lengthOctets), 1 + lengthOctets];
    }
    if (tag !== 6) throw new Error(`the first packet is tag ${tag}, not a public key (6)`);
    const body = bytes.subarray(offset, offset + length);
    if (body[0] !== 4) throw new Error(`a version ${body[0]} key, not 4`);
    const prefix = Buffer.from([0x99, (length >> 8) & 0xff, length & 0xff]);
    return crypto.createHash("sha1").update(prefix).update(body).digest("hex").toUpperCase();
}
