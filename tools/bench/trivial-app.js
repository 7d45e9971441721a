// The trivial endpoint every server in the benchmark serves: a small JSON body, no I/O.
const body = JSON.stringify({ ok: true });
exports.handler = (req, res) => {
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
};
exports.createApp = () => exports.handler;
