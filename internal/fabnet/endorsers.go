package fabnet

import (
	"errors"
	"sort"
)

// SLAOrgs returns the organizations whose peers endorse every transaction
// of an SLA between the provider's organization providerMSP and the
// client's clientMSP: both, sorted. Clients pass them to
// client.WithEndorsingOrganizations:
//
//   - for ProposeSLA it is required: the document travels as transient data
//     and is written to both organizations' implicit collections, which the
//     Fabric Gateway cannot plan by itself;
//   - for every other transaction of the SLA it keeps a third organization
//     from endorsing (and from seeing the transient document): the SLA's
//     keys need exactly these two organizations' peers.
func SLAOrgs(providerMSP, clientMSP string) ([]string, error) {
	if providerMSP == "" || clientMSP == "" {
		return nil, errors.New("the endorsing organizations of an SLA: the provider's and the client's MSP IDs must not be empty")
	}
	if providerMSP == clientMSP {
		return nil, errors.New("the endorsing organizations of an SLA: the provider and the client are the same organization " + providerMSP)
	}
	orgs := []string{providerMSP, clientMSP}
	sort.Strings(orgs)
	return orgs, nil
}
