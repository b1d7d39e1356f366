// centrifuge-go: the benchmark peer built on the Centrifuge Go library (the engine of Centrifugo),
// as small as the library allows. Anonymous connect, every client subscription and publication
// allowed, memory broker, no history. Speaks what instant-loadgen expects:
//
//	/connection/websocket   Centrifuge client protocol v2 (JSON), the library's WebSocket handler
//	POST /api/publish       {"channel": C, "data": D} -> node.Publish(C, D); answers {"result":{}}
//	GET  /health            200
//
// Usage: centrifuge-go -port 18430 [-api-key K] [-queue 16777216]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strconv"

	"github.com/centrifugal/centrifuge"
)

func main() {
	port := flag.Int("port", 8000, "listen port on 127.0.0.1")
	apiKey := flag.String("api-key", "", "X-API-Key required by /api/publish (empty: none)")
	queue := flag.Int("queue", 16<<20, "ClientQueueMaxSize in bytes (same as instant's client_queue_max_size)")
	flag.Parse()

	node, err := centrifuge.New(centrifuge.Config{ClientQueueMaxSize: *queue, LogLevel: centrifuge.LogLevelWarn,
		LogHandler: func(e centrifuge.LogEntry) { log.Printf("%s %v", e.Message, e.Fields) }})
	if err != nil {
		log.Fatal(err)
	}
	node.OnConnecting(func(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: ""}}, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(e centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
		c.OnPublish(func(e centrifuge.PublishEvent, cb centrifuge.PublishCallback) {
			cb(centrifuge.PublishReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		log.Fatal(err)
	}

	http.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{}))
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	http.HandleFunc("/api/publish", func(w http.ResponseWriter, r *http.Request) {
		if *apiKey != "" && r.Header.Get("X-API-Key") != *apiKey {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(r.Body)
		var req struct {
			Channel string          `json:"channel"`
			Data    json.RawMessage `json:"data"`
		}
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err == nil {
			_, err = node.Publish(req.Channel, req.Data)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.Write([]byte(`{"error":{"code":100,"message":` + strconv.Quote(err.Error()) + `}}`))
			return
		}
		w.Write([]byte(`{"result":{}}`))
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+strconv.Itoa(*port), nil))
}
