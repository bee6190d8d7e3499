# shellcheck shell=bash
# Configuration generators used by up.sh (sourced after lib.sh and load_state). Each writes into $SLASA_RUN_DIR.

# gen_crypto_config: cryptogen input. NodeOUs on; TLS certificates carry 127.0.0.1 and localhost as SANs because
# every process listens on the loopback interface and is addressed by IP.
gen_crypto_config() {
	local f="$SLASA_RUN_DIR/config/crypto-config.yaml" n
	{
		cat <<EOF
OrdererOrgs:
  - Name: OrdererOrg
    Domain: $ORDERER_DOMAIN
    EnableNodeOUs: true
    Specs:
EOF
		for n in $(seq 1 "$ORDERERS"); do
			cat <<EOF
      - Hostname: orderer$n
        SANS: [127.0.0.1, localhost]
EOF
		done
		cat <<EOF
PeerOrgs:
  - Name: ProviderOrg
    Domain: $PROVIDER_DOMAIN
    EnableNodeOUs: true
    Template:
      Count: 1
      SANS: [127.0.0.1, localhost]
    Users:
      Count: 0
  - Name: ClientOrg
    Domain: $CLIENT_DOMAIN
    EnableNodeOUs: true
    Template:
      Count: 1
      SANS: [127.0.0.1, localhost]
    Users:
      Count: 0
  - Name: OtherOrg
    Domain: $OTHER_DOMAIN
    EnableNodeOUs: true
    Template:
      Count: 0
    Users:
      Count: 0
EOF
	} >"$f"
}

# gen_configtx: configtxgen input with one profile, SlasaChannel, for an application channel created through
# the orderers' channel participation API (no system channel).
gen_configtx() {
	local f="$SLASA_RUN_DIR/config/configtx.yaml" n crypto="$SLASA_RUN_DIR/crypto"
	local otls="$crypto/ordererOrganizations/$ORDERER_DOMAIN/orderers"
	{
		cat <<EOF
Organizations:
  - &OrdererOrg
    Name: OrdererMSP
    ID: OrdererMSP
    MSPDir: $crypto/ordererOrganizations/$ORDERER_DOMAIN/msp
    Policies:
      Readers: {Type: Signature, Rule: "OR('OrdererMSP.member')"}
      Writers: {Type: Signature, Rule: "OR('OrdererMSP.member')"}
      Admins: {Type: Signature, Rule: "OR('OrdererMSP.admin')"}
    OrdererEndpoints:
EOF
		for n in $(seq 1 "$ORDERERS"); do
			echo "      - 127.0.0.1:$(orderer_port "$n")"
		done
		local org msp domain
		# OtherOrgMSP has no peer. With three organizations, MAJORITY Endorsement (lifecycle approvals and
		# commits) and MAJORITY Admins need two of them, which ProviderOrg and ClientOrg give.
		for org in ProviderOrgMSP:$PROVIDER_DOMAIN ClientOrgMSP:$CLIENT_DOMAIN OtherOrgMSP:$OTHER_DOMAIN; do
			msp="${org%%:*}" domain="${org#*:}"
			cat <<EOF
  - &$msp
    Name: $msp
    ID: $msp
    MSPDir: $crypto/peerOrganizations/$domain/msp
    Policies:
      Readers: {Type: Signature, Rule: "OR('$msp.admin', '$msp.peer', '$msp.client')"}
      Writers: {Type: Signature, Rule: "OR('$msp.admin', '$msp.client')"}
      Admins: {Type: Signature, Rule: "OR('$msp.admin')"}
      Endorsement: {Type: Signature, Rule: "OR('$msp.peer')"}
EOF
		done
		cat <<EOF
Capabilities:
  Channel: &ChannelCapabilities {V2_0: true}
  Orderer: &OrdererCapabilities {V2_0: true}
  Application: &ApplicationCapabilities {V2_5: true}
Application: &ApplicationDefaults
  Organizations:
  Policies:
    Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
    Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
    Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
    LifecycleEndorsement: {Type: ImplicitMeta, Rule: "MAJORITY Endorsement"}
    Endorsement: {Type: ImplicitMeta, Rule: "MAJORITY Endorsement"}
  Capabilities: *ApplicationCapabilities
Orderer: &OrdererDefaults
  OrdererType: etcdraft
  BatchTimeout: 250ms
  BatchSize:
    MaxMessageCount: 500
    AbsoluteMaxBytes: 10 MB
    PreferredMaxBytes: 2 MB
  EtcdRaft:
    Consenters:
EOF
		for n in $(seq 1 "$ORDERERS"); do
			cat <<EOF
      - Host: 127.0.0.1
        Port: $(orderer_port "$n")
        ClientTLSCert: $otls/orderer$n.$ORDERER_DOMAIN/tls/server.crt
        ServerTLSCert: $otls/orderer$n.$ORDERER_DOMAIN/tls/server.crt
EOF
		done
		cat <<EOF
    Options:
      TickInterval: 500ms
      ElectionTick: 10
      HeartbeatTick: 1
      MaxInflightBlocks: 5
      SnapshotIntervalSize: 16 MB
  Organizations:
  Policies:
    Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
    Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
    Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
    BlockValidation: {Type: ImplicitMeta, Rule: "ANY Writers"}
  Capabilities: *OrdererCapabilities
Channel: &ChannelDefaults
  Policies:
    Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
    Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
    Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
  Capabilities: *ChannelCapabilities
Profiles:
  SlasaChannel:
    <<: *ChannelDefaults
    Orderer:
      <<: *OrdererDefaults
      Organizations: [*OrdererOrg]
    Application:
      <<: *ApplicationDefaults
      Organizations: [*ProviderOrgMSP, *ClientOrgMSP, *OtherOrgMSP]
EOF
	} >"$f"
}

# gen_node_config: Fabric's sample core.yaml and orderer.yaml with the Docker endpoint blanked (an empty
# CORE_VM_ENDPOINT is ignored, and with the Docker socket configured the peer's /healthz fails).
gen_node_config() {
	local dir="$SLASA_RUN_DIR/config"
	sed -e 's|^\(    endpoint:\) unix:///var/run/docker.sock|\1|' "$SLASA_CACHE_DIR/sampleconfig/core.yaml" >"$dir/core.yaml"
	grep -q '^ *endpoint: unix:///var/run/docker.sock' "$dir/core.yaml" && die "could not blank vm.endpoint in core.yaml"
	cp "$SLASA_CACHE_DIR/sampleconfig/orderer.yaml" "$dir/orderer.yaml"
}
