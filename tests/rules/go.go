package main

import (
	"fmt"
	"os/exec"
)

func main() {
	// ruleid: go-exec-shell
	exec.Command("sh", "-c", cmd)
	// ok: go-exec-shell
	exec.Command("ls", "-l")
	// ruleid: go-ignored-error
	f, _ := os.Open("x")
	// ok: go-ignored-error
	g, err := os.Open("y")
	// ruleid: go-sprintf-sql
	db.Query(fmt.Sprintf("SELECT * FROM t WHERE id = %d", id))
	// ok: go-sprintf-sql
	db.Query("SELECT * FROM t WHERE id = ?", id)
	for _, name := range names {
		// ruleid: go-defer-in-loop
		defer close(name)
	}
	// ok: go-defer-in-loop
	defer cleanup()
	fmt.Println(f, g, err)
}
