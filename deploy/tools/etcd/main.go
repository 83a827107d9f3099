// Mirrors etcd v3.6.16 main.go (Apache-2.0, The etcd Authors).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
