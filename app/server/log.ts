/** A log destination that can be reopened (USR1, after logrotate moved the file). "-" is a standard stream. */
import * as fs from "fs";

export class ReopenableLog {
    private fd: number | undefined;

    constructor(private readonly target: string | undefined, private readonly stream: "stdout" | "stderr") {
        this.reopen();
    }

    get enabled(): boolean {
        return this.target !== undefined;
    }

    reopen(): void {
        if (this.target === undefined || this.target === "-") return;
        const old = this.fd;
        this.fd = fs.openSync(this.target, "a", 0o640);
        if (old !== undefined) fs.closeSync(old);
    }

    /** One line per call; a single append write, so lines from several workers do not interleave. */
    write(line: string): void {
        if (this.target === undefined) return;
        const text = line.endsWith("\n") ? line : `${line}\n`;
        if (this.fd === undefined) process[this.stream].write(text);
        else fs.writeSync(this.fd, text);
    }
}

export function timestamp(): string {
    return new Date().toISOString();
}
