// node-ws: the Node.js `ws` benchmark peer — an idiomatic broadcast server, no Centrifugo protocol.
// It speaks the suite's "plain broadcast" protocol (bench/servers/README.md), which instant-loadgen
// drives with --protocol plain:
//   GET /connection/websocket  WebSocket; on open the socket joins the one broadcast set and gets
//                              one text frame {"subscribed":"bench"}
//   POST /api/publish          the request body is sent unchanged, as one text frame, to every open
//                              socket (ws's documented broadcast loop); answers 200 {}
//   GET /health                200
// Single thread, no permessage-deflate. Usage: node server.js PORT [API_KEY]
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 8000);
const apiKey = process.argv[3] || '';
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });

const server = http.createServer((req, res) => {
  if (req.url === '/health') return res.end('{}');
  if (req.method !== 'POST' || req.url !== '/api/publish') {
    res.writeHead(404);
    return res.end();
  }
  if (apiKey && req.headers['x-api-key'] !== apiKey) {
    res.writeHead(401);
    return res.end();
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    for (const ws of wss.clients) {
      if (ws.readyState === WebSocket.OPEN) ws.send(body, { binary: false });
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
});

server.on('upgrade', (req, socket, head) => {
  if (req.url !== '/connection/websocket') return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => ws.send('{"subscribed":"bench"}'));
});

server.listen(port, '127.0.0.1', 4096);
process.on('SIGTERM', () => process.exit(0));
