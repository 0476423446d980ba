// The Go peer of tools/bench/pipeline_bench.cpp: the same graph, a goroutine
// per stage, buffered channels between them.
//
//	generate (100-byte payload, 3 attributes) -> set one attribute
//	  -> filter (drops 1 in 10) -> count
//
// Usage: pipeline_bench_go MESSAGES CAPACITY. Prints "elapsed_ns delivered".
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

type attribute struct{ key, value string }

// Attributes as weir keeps them: a short list of pairs, set replaces in place.
type message struct {
	payload    string
	attributes []attribute
}

func (m *message) set(key, value string) {
	for i := range m.attributes {
		if m.attributes[i].key == key {
			m.attributes[i].value = value
			return
		}
	}
	m.attributes = append(m.attributes, attribute{key, value})
}

func (m *message) find(key string) (string, bool) {
	for _, a := range m.attributes {
		if a.key == key {
			return a.value, true
		}
	}
	return "", false
}

func makeMessage(seq uint64) *message {
	payload := []byte("message " + strconv.FormatUint(seq, 10))
	for len(payload) < 100 {
		payload = append(payload, '.')
	}
	m := &message{payload: string(payload[:100])}
	m.set("host", "bench-1")
	m.set("level", "info")
	if seq%10 == 0 {
		m.set("drop", "1")
	} else {
		m.set("drop", "0")
	}
	return m
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pipeline_bench_go MESSAGES CAPACITY")
		os.Exit(2)
	}
	messages, _ := strconv.ParseUint(os.Args[1], 10, 64)
	capacity, _ := strconv.Atoi(os.Args[2])

	start := time.Now()
	generated := make(chan *message, capacity)
	tagged := make(chan *message, capacity)
	kept := make(chan *message, capacity)
	done := make(chan uint64)

	go func() {
		for seq := uint64(0); seq < messages; seq++ {
			generated <- makeMessage(seq)
		}
		close(generated)
	}()
	go func() {
		for m := range generated {
			m.set("tagged", "yes")
			tagged <- m
		}
		close(tagged)
	}()
	go func() {
		for m := range tagged {
			if drop, ok := m.find("drop"); ok && drop == "0" {
				kept <- m
			}
		}
		close(kept)
	}()
	go func() {
		var counted uint64
		for range kept {
			counted++
		}
		done <- counted
	}()
	counted := <-done
	fmt.Printf("%d %d\n", time.Since(start).Nanoseconds(), counted)
}
