// Command daprd is the real Dapr runtime (github.com/dapr/dapr/cmd/daprd/app)
// with only the components dapr-explorer's local stack needs registered:
// the azure.cosmosdb and in-memory state stores, the local.env / local.file
// secret stores, and what the dapr-agents app on the stack uses besides state:
// the conversation.echo model (Dapr's conversation API with no external LLM)
// and the in-memory pub/sub (approval requests are published on it).
// Upstream's cmd/daprd registers components only under build tags that pull in
// every component (echo only under allcomponents); registering six keeps the
// build small.
package main

import (
	"github.com/dapr/components-contrib/conversation/echo"
	pubsubInmemory "github.com/dapr/components-contrib/pubsub/in-memory"
	"github.com/dapr/components-contrib/secretstores/local/env"
	"github.com/dapr/components-contrib/secretstores/local/file"
	"github.com/dapr/components-contrib/state/azure/cosmosdb"
	inmemory "github.com/dapr/components-contrib/state/in-memory"

	"github.com/dapr/dapr/cmd/daprd/app"
	conversationLoader "github.com/dapr/dapr/pkg/components/conversation"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
	secretstoresLoader "github.com/dapr/dapr/pkg/components/secretstores"
	stateLoader "github.com/dapr/dapr/pkg/components/state"
)

func main() {
	stateLoader.DefaultRegistry.RegisterComponent(cosmosdb.NewCosmosDBStateStore, "azure.cosmosdb")
	stateLoader.DefaultRegistry.RegisterComponent(inmemory.NewInMemoryStateStore, "in-memory")
	secretstoresLoader.DefaultRegistry.RegisterComponent(env.NewEnvSecretStore, "local.env")
	secretstoresLoader.DefaultRegistry.RegisterComponent(file.NewLocalSecretStore, "local.file")
	conversationLoader.DefaultRegistry.RegisterComponent(echo.NewEcho, "echo")
	pubsubLoader.DefaultRegistry.RegisterComponent(pubsubInmemory.New, "in-memory")
	app.Run()
}
