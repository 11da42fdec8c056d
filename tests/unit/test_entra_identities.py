"""The Entra ID mode's stand-in tenant agrees with itself (pure reads of the repository's files):
stack/identity/identities.json is the one source the token endpoint and the stack read, and the
component files of stack/entra/components/ repeat its client ids (YAML cannot refer to JSON)."""

from pathlib import Path

from explorer.components.files import load_components
from explorer.localstack.entra import ROLE_NAMES, load_tenant, server_config
from explorer.localstack.specs import ContainerSpec, container_specs
from explorer.resources import entra_components_dir

READER_ROLE, CONTRIBUTOR_ROLE = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"


def test_the_two_identities_hold_the_two_built_in_data_roles_and_differ_everywhere():
    tenant, identities = load_tenant()
    assert set(identities) == {"reader", "contributor"}
    assert identities["reader"].role == READER_ROLE and identities["reader"].role_name == "Cosmos DB Built-in Data Reader"
    assert identities["contributor"].role == CONTRIBUTOR_ROLE
    assert identities["contributor"].role_name == "Cosmos DB Built-in Data Contributor"
    ids = [tenant] + [i.client_id for i in identities.values()] + [i.object_id for i in identities.values()]
    assert len(set(ids)) == len(ids) == 5
    assert set(ROLE_NAMES) == {READER_ROLE, CONTRIBUTOR_ROLE}


def test_each_entra_store_names_its_identity_by_client_id_and_carries_no_key():
    _, identities = load_tenant()
    components = {c.name: c for c in load_components([entra_components_dir()])}
    assert set(components) == {"statestore-entra", "statestore-entra-reader"}
    assert components["statestore-entra"].plain("azureClientId") == identities["contributor"].client_id
    assert components["statestore-entra-reader"].plain("azureClientId") == identities["reader"].client_id
    for component in components.values():
        assert component.is_cosmos and component.get("masterKey") is None
    assert {s.store: s for s in container_specs(components.values())} == {
        "statestore-entra": ContainerSpec("statestore-entra", "dapr-entra", "entra-state", None),
        "statestore-entra-reader": ContainerSpec("statestore-entra-reader", "dapr-entra", "entra-state", None),
    }


def test_the_server_config_assigns_each_principal_its_role():
    tenant, identities = load_tenant()
    config = server_config(Path("/run/key.pem"), tenant, identities.values(), [{"database": "d", "container": "c"}])
    assert config["tenant"] == tenant and config["publicKeyFile"] == "/run/key.pem"
    assert {p["objectId"]: p["roleDefinitionIds"] for p in config["principals"]} == {
        identities["reader"].object_id: [READER_ROLE], identities["contributor"].object_id: [CONTRIBUTOR_ROLE]}
    assert config["containers"] == [{"database": "d", "container": "c"}]
