/** Every shell script a host runs passes shellcheck (POSIX sh: Ubuntu's /bin/sh is dash). */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { SCRIPTS, SCRIPTS_DIR } from "../../cloud-init/scripts";

const files = fs.readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".sh")).sort();

describe("host scripts", () => {
    test("shellcheck is installed (.ci/run installs it)", () => {
        expect(spawnSync("shellcheck", ["--version"]).status, "apt-get install shellcheck").toBe(0);
    });

    test.each(files)("%s passes shellcheck as POSIX sh", (file) => {
        const result = spawnSync("shellcheck", ["--shell=sh", "--severity=style", "--external-sources", "--source-path=SCRIPTDIR", path.join(SCRIPTS_DIR, file)], { encoding: "utf8" });
        expect(result.status, result.stdout + result.stderr).toBe(0);
        expect(fs.readFileSync(path.join(SCRIPTS_DIR, file), "utf8").startsWith("#!/bin/sh\n")).toBe(true);
    });

    test("every script in the directory is shipped by some role, and every shipped script exists", () => {
        expect(Object.values(SCRIPTS).sort()).toEqual(files);
    });
});
