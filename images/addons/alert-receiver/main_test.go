package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const firing = `{"receiver":"on-call","status":"firing","alerts":[{"status":"firing",
 "labels":{"alertname":"BotsWebserverDown","severity":"critical"},"startsAt":"2026-12-01T01:00:00Z",
 "endsAt":"0001-01-01T00:00:00Z"}]}`

func do(t *testing.T, r *Recorder, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
	return w
}

func listed(t *testing.T, r *Recorder) []Notification {
	t.Helper()
	w := do(t, r, http.MethodGet, "/notifications", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /notifications: %d %s", w.Code, w.Body)
	}
	var notes []Notification
	if err := json.Unmarshal(w.Body.Bytes(), &notes); err != nil {
		t.Fatalf("GET /notifications is no JSON list: %v: %s", err, w.Body)
	}
	return notes
}

func TestRecordsEachNotificationUnderItsReceiver(t *testing.T) {
	r := NewRecorder()
	r.now = func() time.Time { return time.Date(2026, 12, 1, 1, 0, 5, 0, time.UTC) }
	if w := do(t, r, http.MethodPost, "/on-call", firing); w.Code != http.StatusOK {
		t.Fatalf("POST /on-call: %d %s", w.Code, w.Body)
	}
	resolved := strings.ReplaceAll(firing, `"firing"`, `"resolved"`)
	if w := do(t, r, http.MethodPost, "/chat", resolved); w.Code != http.StatusOK {
		t.Fatalf("POST /chat: %d %s", w.Code, w.Body)
	}
	notes := listed(t, r)
	if len(notes) != 2 {
		t.Fatalf("want 2 notifications, got %d", len(notes))
	}
	first, second := notes[0], notes[1]
	if first.Receiver != "on-call" || first.Status != "firing" || second.Receiver != "chat" || second.Status != "resolved" {
		t.Fatalf("recorded %+v then %+v", first, second)
	}
	if got := first.Alerts[0].Labels["alertname"]; got != "BotsWebserverDown" {
		t.Fatalf("alertname %q", got)
	}
	if !first.ReceivedAt.Equal(r.now()) {
		t.Fatalf("receivedAt %v", first.ReceivedAt)
	}
	var payload map[string]any
	if err := json.Unmarshal(first.Payload, &payload); err != nil || payload["receiver"] != "on-call" {
		t.Fatalf("payload not kept as sent: %v %s", err, first.Payload)
	}
}

func TestDeleteForgets(t *testing.T) {
	r := NewRecorder()
	do(t, r, http.MethodPost, "/chat", firing)
	if w := do(t, r, http.MethodDelete, "/notifications", ""); w.Code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", w.Code)
	}
	if notes := listed(t, r); len(notes) != 0 {
		t.Fatalf("still %d after DELETE", len(notes))
	}
}

func TestRefusesWhatIsNoNotification(t *testing.T) {
	r := NewRecorder()
	cases := map[string]struct {
		path, body string
		code       int
	}{
		"not JSON":         {"/chat", "hello", http.StatusBadRequest},
		"no receiver":      {"/", firing, http.StatusNotFound},
		"nested path":      {"/a/b", firing, http.StatusNotFound},
		"reserved path":    {"/notifications", firing, http.StatusNotFound},
		"larger than 1MiB": {"/chat", `{"alerts":[],"x":"` + strings.Repeat("x", maxBody) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for name, c := range cases {
		if w := do(t, r, http.MethodPost, c.path, c.body); w.Code != c.code {
			t.Errorf("%s: want %d, got %d %s", name, c.code, w.Code, w.Body)
		}
	}
	if notes := listed(t, r); len(notes) != 0 {
		t.Fatalf("recorded %d refused notifications", len(notes))
	}
	if w := do(t, r, http.MethodPut, "/notifications", ""); w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", w.Code)
	}
}

func TestHealthz(t *testing.T) {
	if w := do(t, NewRecorder(), http.MethodGet, "/healthz", ""); w.Code != http.StatusOK {
		t.Fatalf("healthz: %d", w.Code)
	}
}
