// The ceiling: node:cluster with no supervision at all (round-robin, Node's default). argv: HOST PORT WORKERS
const cluster = require("cluster");
const http = require("http");
const { handler } = require("./trivial-app");
const [host, port, workers] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
if (cluster.isPrimary) {
    for (let i = 0; i < workers; i++) cluster.fork();
    process.on("SIGTERM", () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); });
} else {
    http.createServer(handler).listen(port, host);
}
