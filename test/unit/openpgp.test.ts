/** The offline OpenPGP check the apt-key tests rely on: it must compute gpg's fingerprint and notice a damaged key. */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { dearmor, primaryKeyFingerprint } from "../harness/openpgp";

const KEY = fs.readFileSync(path.join(__dirname, "../../cloud-init/keys/nodesource-repo.gpg.key"), "utf8");

describe("openpgp (test helper)", () => {
    test("the V4 fingerprint of the shipped NodeSource key is the one gpg prints for it", () => {
        // gpg --show-keys --with-fingerprint cloud-init/keys/nodesource-repo.gpg.key: 6F71 F525 2828 41EE DAF8  51B4 2F59 B5F9 9B1B E0B4
        expect(primaryKeyFingerprint(KEY)).toBe("6F71F525282841EEDAF851B42F59B5F99B1BE0B4");
    });

    test("a key whose data no longer matches its armor checksum is refused", () => {
        const lines = KEY.split("\n");
        const i = lines.findIndex((l) => l.startsWith("mQ"));
        lines[i] = `mR${lines[i].slice(2)}`;
        expect(() => dearmor(lines.join("\n"))).toThrow(/CRC-24/);
    });

    test("text that is not an armored public key is refused", () => {
        expect(() => primaryKeyFingerprint("-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----")).toThrow(/not an armored public key block/);
    });
});
