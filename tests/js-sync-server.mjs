// The official automerge-repo sync server, as `automerge-repo-sync-server` sets it up (a Repo with
// the WebSocket server adapter, the Node file-system storage adapter and `sharePolicy: false`), at
// the versions tests/package.json pins: the reference `cargo xtask bench --compare-js` measures our
// server against. Usage: node js-sync-server.mjs DATA_DIR (listens on a free port on 127.0.0.1 and
// prints "js-sync-server listening on http://127.0.0.1:PORT").
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { WebSocketServer } from "ws"

const dir = process.argv[2]
if (!dir) {
  console.error("usage: node js-sync-server.mjs DATA_DIR")
  process.exit(2)
}
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
const adapter = new NodeWSServerAdapter(wss)
// Say we listen only once the Repo has connected the adapter (it does so after reading its storage
// ID): a join arriving earlier fails the adapter's own peer-ID assertion and resets the socket.
wss.on("listening", () => {
  const ready = setInterval(() => {
    if (adapter.peerId) {
      clearInterval(ready)
      console.log(`js-sync-server listening on http://127.0.0.1:${wss.address().port}`)
    }
  }, 5)
})
new Repo({
  network: [adapter],
  storage: new NodeFSStorageAdapter(dir),
  peerId: "storage-server-bench",
  // As the official server: only documents a peer asks for by ID are synced.
  sharePolicy: async () => false,
})
process.on("SIGTERM", () => process.exit(0))
