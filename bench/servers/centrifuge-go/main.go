// centrifuge-go: the benchmark peer built on the Centrifuge Go library (the engine of Centrifugo),
// as small as the library allows. Anonymous connect, every client subscription and publication
// allowed, memory broker, no history. With -token-secret, a connect token is verified as an HS256
// JWT (signature, exp, sub), as Centrifugo does; a connect without one stays anonymous, as with
// instant's allow_anonymous_connect_without_token. Speaks what instant-loadgen expects:
//
//	/connection/websocket   Centrifuge client protocol v2 (JSON), the library's WebSocket handler
//	POST /api/publish       {"channel": C, "data": D} -> node.Publish(C, D); answers {"result":{}}
//	GET  /health            200
//
// Usage: centrifuge-go -port 18430 [-api-key K] [-queue 16777216] [-token-secret S]
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/centrifugal/centrifuge"
)

func main() {
	port := flag.Int("port", 8000, "listen port on 127.0.0.1")
	apiKey := flag.String("api-key", "", "X-API-Key required by /api/publish (empty: none)")
	queue := flag.Int("queue", 16<<20, "ClientQueueMaxSize in bytes (same as instant's client_queue_max_size)")
	secret := flag.String("token-secret", "", "HMAC secret of HS256 connect tokens (empty: tokens are not checked)")
	flag.Parse()

	node, err := centrifuge.New(centrifuge.Config{ClientQueueMaxSize: *queue, LogLevel: centrifuge.LogLevelWarn,
		LogHandler: func(e centrifuge.LogEntry) { log.Printf("%s %v", e.Message, e.Fields) }})
	if err != nil {
		log.Fatal(err)
	}
	node.OnConnecting(func(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		user := ""
		if *secret != "" && e.Token != "" {
			sub, err := verifyHS256([]byte(*secret), e.Token, time.Now().Unix())
			if err != nil {
				return centrifuge.ConnectReply{}, centrifuge.DisconnectInvalidToken
			}
			user = sub
		}
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: user}}, nil
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

// verifyHS256 checks a compact JWS signed with HMAC-SHA256 and returns its "sub" claim; an "exp"
// in the past is refused.
func verifyHS256(secret []byte, token string, now int64) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a compact JWS")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodePart(parts[0], &header); err != nil || header.Alg != "HS256" {
		return "", errors.New("not HS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return "", errors.New("bad signature")
	}
	var claims struct {
		Sub string `json:"sub"`
		Exp *int64 `json:"exp"`
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return "", err
	}
	if claims.Exp != nil && *claims.Exp <= now {
		return "", errors.New("expired")
	}
	return claims.Sub, nil
}

// decodePart decodes one base64url segment of a JWS into v.
func decodePart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
