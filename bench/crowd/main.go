// The crowd of an opening, open loop, through a campaign's waiting room (bench/opening.py builds and runs it).
//
// Families arrive at a fixed rate whatever the answers' pace (as a crowd at 00:01 does): each takes its place
// (PUT /waiting-rooms/{campaign}/place), asks again after the poll_after_seconds the server gives, and once
// admitted submits (POST /applications) with its admission token and its own Idempotency-Key; a 503 is retried
// after its Retry-After with the same key, an admission refused (403) asks the room for a fresh token. A join
// refused as busy (503) sends its Arrival-Ticket back with the next join, as the portal's waiting page does (and
// the Join-Backoff of a refusal by the edge: refused again, it waits longer), and each poll sends back the Poll-Backoff of the room's last answer (a refused poll then waits what the room would
// have told it, not a few seconds). Every
// answer is one JSON line on stdout: family, kind (join, poll, submit), start and latency in ms since the run's
// start, status, and what the answer said (state, position, pace, application id); the first line (kind start)
// gives the run's start in ms since the epoch. At most -connections connections to each address, as an
// ingress's upstream pool would hold (a request waits for a free one, within its measured latency); a request
// that got no answer is asked again 15-30 s later, as the portal's waiting page does. Standard library only, in Go
// so that thousands of waiting families cost the machine's two cores little next to the service.
//
//	go run bench/crowd/main.go -url http://127.0.0.1:8001 [-room-url http://127.0.0.1:8002] -campaign ID -families families.jsonl -rate 300 \
//	    -seconds 60 -deadline 240 > answers.jsonl
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

type family struct {
	Token string `json:"token"`
	Body  string `json:"body"`
	Key   string `json:"key"`
}

type answer struct {
	Family   int     `json:"f"`
	Kind     string  `json:"k"`
	StartMs  float64 `json:"t"`
	Ms       float64 `json:"ms"`
	Status   int     `json:"s"`
	State    string  `json:"state,omitempty"`
	Position *int    `json:"pos,omitempty"`
	Pace     float64 `json:"pace,omitempty"`
	App      string  `json:"app,omitempty"`
	Code     string  `json:"code,omitempty"`
	Err      string  `json:"err,omitempty"`
	Edge     bool    `json:"edge,omitempty"` // a refusal the edge gave (Shed-By: edge), not the service
}

type place struct {
	State     string  `json:"state"`
	Position  *int    `json:"position"`
	Pace      float64 `json:"pace_per_minute"`
	PollAfter int     `json:"poll_after_seconds"`
	Token     *string `json:"admission_token"`
}

type ack struct {
	ApplicationID string `json:"application_id"`
	Code          string `json:"code"`
}

var (
	client  *http.Client
	started time.Time
	out     chan answer
)

func since(t time.Time) float64 { return float64(t.Sub(started).Microseconds()) / 1000 }

func call(method, url string, headers map[string]string, body []byte) (int, []byte, http.Header, float64, float64, error) {
	request, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, 0, 0, err
	}
	for name, value := range headers {
		request.Header.Set(name, value)
	}
	begin := time.Now()
	response, err := client.Do(request)
	if err != nil {
		return 0, nil, nil, since(begin), float64(time.Since(begin).Microseconds()) / 1000, err
	}
	content, err := io.ReadAll(response.Body)
	response.Body.Close()
	return response.StatusCode, content, response.Header, since(begin), float64(time.Since(begin).Microseconds()) / 1000, err
}

func retryAfter(headers http.Header, fallback int) time.Duration {
	if headers != nil {
		if seconds, err := strconv.Atoi(headers.Get("Retry-After")); err == nil && seconds > 0 {
			return time.Duration(seconds) * time.Second
		}
	}
	return time.Duration(fallback) * time.Second
}

// One family's visit: join, poll until admitted, submit; gives up at the deadline.
func visit(number int, f family, base, roomBase, campaign string, deadline time.Time) {
	placeURL := fmt.Sprintf("%s/waiting-rooms/%s/place", roomBase, campaign)
	auth := map[string]string{"Authorization": "Bearer " + f.Token}
	method, kind := "PUT", "join"
	var token string
	for token == "" {
		if time.Now().After(deadline) {
			out <- answer{Family: number, Kind: "gave_up", StartMs: since(time.Now())}
			return
		}
		status, content, headers, at, ms, err := call(method, placeURL, auth, nil)
		result := answer{Family: number, Kind: kind, StartMs: at, Ms: ms, Status: status}
		wait := time.Second
		if err != nil {
			result.Err = err.Error()
			// As the portal's waiting page does after a failure (static/waiting-room.js): 15 to 30 s at random.
			wait = time.Duration(15000+rand.Intn(15000)) * time.Millisecond
		} else if status == 200 {
			delete(auth, "Arrival-Ticket") // spent (or ignored) by this join
			delete(auth, "Join-Backoff")
			if backoff := headers.Get("Poll-Backoff"); backoff != "" {
				auth["Poll-Backoff"] = backoff // sent back with the next poll, as the portal's waiting page does
			}
			var p place
			if json.Unmarshal(content, &p) == nil {
				result.State, result.Position, result.Pace = p.State, p.Position, p.Pace
				if p.State == "admitted" && p.Token != nil {
					token = *p.Token
				} else if p.State == "expired" || p.State == "not_joined" {
					method, kind = "PUT", "join" // take a place again
				} else {
					method, kind = "GET", "poll"
				}
				wait = retryAfter(headers, p.PollAfter)
			}
		} else {
			var problem ack
			_ = json.Unmarshal(content, &problem)
			result.Code, result.Edge = problem.Code, headers.Get("Shed-By") == "edge"
			if ticket := headers.Get("Arrival-Ticket"); method == "PUT" && ticket != "" {
				auth["Arrival-Ticket"] = ticket // the next join keeps this refusal's arrival order
			}
			if backoff := headers.Get("Join-Backoff"); method == "PUT" && backoff != "" {
				auth["Join-Backoff"] = backoff // refused again at the edge, the next join waits longer
			}
			wait = retryAfter(headers, 2)
		}
		out <- result
		if token == "" {
			time.Sleep(wait)
		}
	}
	headers := map[string]string{"Authorization": "Bearer " + f.Token, "Content-Type": "application/json",
		"Idempotency-Key": f.Key, "Admission-Token": token}
	for {
		if time.Now().After(deadline) {
			out <- answer{Family: number, Kind: "gave_up", StartMs: since(time.Now())}
			return
		}
		status, content, answerHeaders, at, ms, err := call("POST", base+"/applications", headers, []byte(f.Body))
		result := answer{Family: number, Kind: "submit", StartMs: at, Ms: ms, Status: status}
		var answered ack
		if err != nil {
			result.Err = err.Error()
		} else {
			_ = json.Unmarshal(content, &answered)
			result.App, result.Code = answered.ApplicationID, answered.Code
			result.Edge = answerHeaders.Get("Shed-By") == "edge"
		}
		out <- result
		switch {
		case err == nil && status == 503:
			time.Sleep(retryAfter(answerHeaders, 2))
		case err == nil && status == 403: // the admission lapsed: a fresh token from the room
			status, content, _, at, ms, err := call("GET", placeURL, auth, nil)
			fresh := answer{Family: number, Kind: "poll", StartMs: at, Ms: ms, Status: status}
			var p place
			if err == nil && json.Unmarshal(content, &p) == nil && p.Token != nil {
				headers["Admission-Token"] = *p.Token
				fresh.State = p.State
				out <- fresh
				continue
			}
			out <- fresh
			return
		case err != nil:
			time.Sleep(time.Second)
		default:
			return
		}
	}
}

func main() {
	base := flag.String("url", "", "registrations' base URL")
	roomBase := flag.String("room-url", "", "where the room's joins and polls go (default: -url)")
	campaign := flag.String("campaign", "", "the campaign's id")
	path := flag.String("families", "", "JSON lines: token, body, key")
	rate := flag.Float64("rate", 100, "families arriving per second")
	seconds := flag.Float64("seconds", 60, "arrivals last this long")
	deadline := flag.Float64("deadline", 240, "families still waiting this long after the start give up")
	connections := flag.Int("connections", 512, "connections to the service at most, as an ingress's upstream "+
		"pool: a family's request waits for a free one, and that wait is in its latency")
	flag.Parse()
	if *roomBase == "" {
		*roomBase = *base
	}

	file, err := os.Open(*path)
	if err != nil {
		panic(err)
	}
	var families []family
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var f family
		if err := json.Unmarshal(scanner.Bytes(), &f); err != nil {
			panic(err)
		}
		families = append(families, f)
	}
	arrivals := int(*rate * *seconds)
	if arrivals > len(families) {
		panic(fmt.Sprintf("%d arrivals asked, %d families given", arrivals, len(families)))
	}
	client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: *connections, MaxIdleConnsPerHost: *connections, MaxConnsPerHost: *connections,
		IdleConnTimeout: 4 * time.Second}}
	out = make(chan answer, 65536)
	written := make(chan struct{})
	go func() {
		writer := bufio.NewWriterSize(os.Stdout, 1<<20)
		encoder := json.NewEncoder(writer)
		for a := range out {
			_ = encoder.Encode(a)
		}
		writer.Flush()
		close(written)
	}()

	started = time.Now()
	out <- answer{Family: -1, Kind: "start", StartMs: float64(started.UnixMicro()) / 1000}
	end := started.Add(time.Duration(*deadline * float64(time.Second)))
	var everyone sync.WaitGroup
	interval := time.Duration(float64(time.Second) / *rate)
	for number := 0; number < arrivals; number++ {
		// Open loop: family n arrives at n / rate, whatever happened to the others.
		if wait := time.Until(started.Add(time.Duration(number) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		everyone.Add(1)
		go func(number int) {
			defer everyone.Done()
			visit(number, families[number], *base, *roomBase, *campaign, end)
		}(number)
	}
	everyone.Wait()
	close(out)
	<-written
	fmt.Fprintf(os.Stderr, "%d families in %.1f s\n", arrivals, time.Since(started).Seconds())
}
