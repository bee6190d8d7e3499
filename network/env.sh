# shellcheck shell=bash
# Source this file (bash) to use the peer CLI and osnadmin against the running slasa network:
#
#   source network/env.sh provider            ProviderOrg admin   (peer channel list, lifecycle, ...)
#   source network/env.sh provider logger     ProviderOrg user logger (likewise provider, issuer [an admin];
#                                             with SLASA_SECOND_CA=1 also provider-ca2, provider-admin-role)
#   source network/env.sh client              ClientOrg admin
#   source network/env.sh client client       ClientOrg user client
#   source network/env.sh vendor vendor       VendorOrg user vendor
#   source network/env.sh other other         OtherOrg user other (with SLASA_ORGS=3 OtherOrg has no peer: uses
#                                             ClientOrg's peer)
#   source network/env.sh org5 user1          Org5 user user1 (SLASA_ORGS >= 5; likewise org6 .. org20)
#   source network/env.sh orderer-admin       OrdererOrg admin for osnadmin ($OSNADMIN_FLAGS)
#
# Sets PATH (Fabric binaries first), FABRIC_CFG_PATH, CORE_PEER_*, and the helpers CHANNEL, ORDERER_ADDRESS,
# ORDERER_CA, ORDERER_FLAGS and PEER_FLAGS (ProviderOrg's and ClientOrg's peers), e.g.:
#   peer chaincode query -C "$CHANNEL" -n smoke -c '{"Args":["Get","k"]}'
#   peer chaincode invoke $ORDERER_FLAGS $PEER_FLAGS -C "$CHANNEL" -n smoke -c '{"Args":["Put","k","v"]}'
# Honours SLASA_RUN_DIR and SLASA_CACHE_DIR like the other scripts. Other shells:
#   eval "$(network/env-print.sh provider)"
# The work happens in network/env-print.sh, so nothing but the variables lands in your shell, and a mistake
# returns an error instead of closing it.

if _slasa_env_out="$(bash "$(dirname "${BASH_SOURCE[0]}")/env-print.sh" "$@")"; then
	eval "$_slasa_env_out"
	unset _slasa_env_out
else
	unset _slasa_env_out
	# shellcheck disable=SC2317 # exit only when run instead of sourced
	return 1 2>/dev/null || exit 1
fi
