/**
 * A private Ethernet segment between the test's VMs, standing in for the VPC's subnets: each VM's second
 * NIC is a qemu UDP socket netdev whose frames go to this hub on loopback, which repeats every frame to the
 * other VMs (a hub, not a switch: a handful of VMs, so flooding costs nothing). The host takes no part in
 * the segment; the VMs reach each other only by the private addresses the program gave them.
 */
import * as dgram from "dgram";

export interface PrivateNetPort {
    /** The qemu -netdev argument for one VM's NIC on this segment. */
    readonly netdev: string;
}

export interface PrivateNet {
    /** A port on the hub for one VM (each VM gets its own loopback UDP port). */
    port(): Promise<PrivateNetPort>;
    close(): Promise<void>;
}

export async function startPrivateNet(host: string): Promise<PrivateNet> {
    const hub = dgram.createSocket("udp4");
    const members: number[] = [];
    hub.on("message", (frame, from) => {
        for (const port of members) if (port !== from.port) hub.send(frame, port, host);
    });
    await new Promise<void>((resolve) => hub.bind(0, host, resolve));
    const hubPort = hub.address().port;
    return {
        async port() {
            // Reserve a free UDP port for the VM's end by binding and releasing it.
            const probe = dgram.createSocket("udp4");
            await new Promise<void>((resolve) => probe.bind(0, host, resolve));
            const port = probe.address().port;
            await new Promise<void>((resolve) => probe.close(() => resolve()));
            members.push(port);
            return { netdev: `socket,udp=${host}:${hubPort},localaddr=${host}:${port}` };
        },
        close: async () => {
            await new Promise<void>((resolve) => hub.close(() => resolve()));
        },
    };
}
