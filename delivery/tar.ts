/**
 * A deterministic ustar writer: entries in the order given, owner root:root (0/0), one fixed mtime, no user
 * or group names. GNU tar, busybox and bsdtar read it. Built here rather than shelling out to tar because
 * `--sort`, `--mtime` and `--owner` differ between GNU tar and bsdtar, and the bundle must be byte-identical
 * wherever it is built.
 */
export interface TarEntry {
    /** Relative path, "/"-separated; directories end with "/". */
    readonly path: string;
    readonly mode: number;
    /** Absent for directories. */
    readonly content?: Buffer;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
    // width includes the terminating NUL
    const text = value.toString(8);
    if (text.length > width - 1) throw new Error(`tar: ${value} does not fit in a ${width}-byte field`);
    return `${text.padStart(width - 1, "0")}\0`;
}

function splitName(path: string): { name: string; prefix: string } {
    if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
    // ustar: prefix (155) + "/" + name (100), split at a slash
    for (let i = path.length - 1; i > 0; i--) {
        if (path[i] === "/" && Buffer.byteLength(path.slice(i + 1)) <= 100 && Buffer.byteLength(path.slice(0, i)) <= 155) {
            return { name: path.slice(i + 1), prefix: path.slice(0, i) };
        }
    }
    throw new Error(`tar: path too long for ustar: ${path}`);
}

function header(entry: TarEntry, mtime: number): Buffer {
    if (entry.path.startsWith("/") || entry.path.split("/").includes("..")) throw new Error(`tar: unsafe path ${entry.path}`);
    const isDir = entry.path.endsWith("/");
    if (isDir !== (entry.content === undefined)) throw new Error(`tar: ${entry.path}: directories end with "/" and have no content`);
    const h = Buffer.alloc(BLOCK, 0);
    const { name, prefix } = splitName(entry.path);
    const put = (text: string, offset: number) => h.write(text, offset, "utf8");
    put(name, 0);
    put(octal(entry.mode & 0o7777, 8), 100);
    put(octal(0, 8), 108); // uid
    put(octal(0, 8), 116); // gid
    put(octal(entry.content?.length ?? 0, 12), 124);
    put(octal(mtime, 12), 136);
    put("        ", 148); // checksum is computed with this field as spaces
    put(isDir ? "5" : "0", 156);
    put("ustar\u000000", 257);
    put(prefix, 345);
    let sum = 0;
    for (const byte of h) sum += byte;
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    return h;
}

/** The archive's bytes (uncompressed). */
export function tarArchive(entries: readonly TarEntry[], mtime: number): Buffer {
    const parts: Buffer[] = [];
    for (const entry of entries) {
        parts.push(header(entry, mtime));
        if (entry.content) {
            parts.push(entry.content);
            const pad = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
            if (pad) parts.push(Buffer.alloc(pad, 0));
        }
    }
    parts.push(Buffer.alloc(BLOCK * 2, 0));
    return Buffer.concat(parts);
}
