// The same endpoint as a pm2 cluster-mode app (pm2 passes the port in the environment).
const http = require("http");
const { handler } = require("./trivial-app");
http.createServer(handler).listen(Number(process.env.BENCH_PORT), process.env.BENCH_HOST, () => process.send && process.send("ready"));
