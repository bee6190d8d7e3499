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
EOF
		local org count
		for org in $ALL_ORGS; do
			count=0
			if org_has_peer "$org"; then count=1; fi
			cat <<EOF
  - Name: $(org_name "$org")
    Domain: $(org_domain "$org")
    EnableNodeOUs: true
    Template:
      Count: $count
      SANS: [127.0.0.1, localhost]
    Users:
      Count: 0
EOF
		done
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
		# Every application organization is a channel member with the same policies. Its Endorsement policy,
		# OR('<MSP>.peer'), is what the application's MAJORITY Endorsement (lifecycle approvals and commits)
		# counts; a peerless OtherOrg (SLASA_ORGS=3) never gives it, the other organizations' peers make the
		# majority. Anchor peers are set after the channel exists, one channel configuration update per
		# organization with a peer (up.sh).
		for org in $ALL_ORGS; do
			msp="$(org_msp "$org")" domain="$(org_domain "$org")"
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
      Organizations: [$(for org in $ALL_ORGS; do printf '*%s, ' "$(org_msp "$org")"; done | sed 's/, $//')]
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
