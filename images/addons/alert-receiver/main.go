// alert-receiver records the notifications Alertmanager sends to its webhook receivers, so a scenario can prove
// which notification reached which receiver. A test receiver: it keeps everything in memory.
//
//	POST /<receiver>      a webhook notification (Alertmanager's JSON); recorded under the path's receiver name
//	GET  /notifications   every notification recorded, oldest first, as a JSON list
//	DELETE /notifications forgets them (the suite's known state)
//	GET  /healthz         ok
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxBody bounds one notification: Alertmanager's are a few kilobytes.
const maxBody = 1 << 20

// Notification is one webhook call, with what the suite asks of it lifted out of Alertmanager's payload.
type Notification struct {
	Receiver   string          `json:"receiver"`   // the path it was posted to
	ReceivedAt time.Time       `json:"receivedAt"` // when it arrived here
	Status     string          `json:"status"`     // firing or resolved
	Alerts     []Alert         `json:"alerts"`
	Payload    json.RawMessage `json:"payload"` // the body as sent
}

// Alert is one alert of a notification.
type Alert struct {
	Status   string            `json:"status"`
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	EndsAt   time.Time         `json:"endsAt"`
}

// Recorder keeps the notifications.
type Recorder struct {
	mu    sync.Mutex
	notes []Notification
	now   func() time.Time
}

func NewRecorder() *Recorder { return &Recorder{now: time.Now} }

func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.URL.Path == "/healthz":
		_, _ = io.WriteString(w, "ok\n")
	case req.URL.Path == "/notifications" && req.Method == http.MethodGet:
		r.mu.Lock()
		body, err := json.Marshal(append([]Notification{}, r.notes...))
		r.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	case req.URL.Path == "/notifications" && req.Method == http.MethodDelete:
		r.mu.Lock()
		r.notes = nil
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case req.Method == http.MethodPost:
		r.record(w, req)
	default:
		http.Error(w, "POST /<receiver>, GET or DELETE /notifications, GET /healthz", http.StatusMethodNotAllowed)
	}
}

func (r *Recorder) record(w http.ResponseWriter, req *http.Request) {
	receiver := strings.Trim(req.URL.Path, "/")
	if receiver == "" || strings.Contains(receiver, "/") || receiver == "notifications" || receiver == "healthz" {
		http.Error(w, "post to /<receiver name>", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		http.Error(w, "notification larger than 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	var parsed struct {
		Status string  `json:"status"`
		Alerts []Alert `json:"alerts"`
	}
	if err := json.Unmarshal(body, &parsed); err != nil {
		http.Error(w, "not an Alertmanager webhook notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	note := Notification{Receiver: receiver, ReceivedAt: r.now().UTC(), Status: parsed.Status,
		Alerts: parsed.Alerts, Payload: json.RawMessage(body)}
	r.mu.Lock()
	r.notes = append(r.notes, note)
	r.mu.Unlock()
	for _, alert := range parsed.Alerts {
		log.Printf("%s: %s %s (%s)", receiver, alert.Status, alert.Labels["alertname"], alert.Labels["severity"])
	}
	w.WriteHeader(http.StatusOK)
}

func main() {
	listen := flag.String("listen", ":8080", "address to listen on")
	flag.Parse()
	server := &http.Server{Addr: *listen, Handler: NewRecorder(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("alert-receiver listening on %s", *listen)
	log.Fatal(server.ListenAndServe())
}
