// Command daprd is the real Dapr runtime (github.com/dapr/dapr/cmd/daprd/app)
// with only the components dapr-explorer's local stack needs registered:
// the azure.cosmosdb and in-memory state stores and the local.env / local.file
// secret stores. Upstream's cmd/daprd registers components only under build
// tags that pull in every component; registering four keeps the build small.
package main

import (
	"github.com/dapr/components-contrib/secretstores/local/env"
	"github.com/dapr/components-contrib/secretstores/local/file"
	"github.com/dapr/components-contrib/state/azure/cosmosdb"
	inmemory "github.com/dapr/components-contrib/state/in-memory"

	"github.com/dapr/dapr/cmd/daprd/app"
	secretstoresLoader "github.com/dapr/dapr/pkg/components/secretstores"
	stateLoader "github.com/dapr/dapr/pkg/components/state"
)

func main() {
	stateLoader.DefaultRegistry.RegisterComponent(cosmosdb.NewCosmosDBStateStore, "azure.cosmosdb")
	stateLoader.DefaultRegistry.RegisterComponent(inmemory.NewInMemoryStateStore, "in-memory")
	secretstoresLoader.DefaultRegistry.RegisterComponent(env.NewEnvSecretStore, "local.env")
	secretstoresLoader.DefaultRegistry.RegisterComponent(file.NewLocalSecretStore, "local.file")
	app.Run()
}
