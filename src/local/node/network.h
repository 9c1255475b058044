// A node's network namespace, joined to the host by a veth pair: the host end carries the
// node's link address and a route to its pod CIDR; the node end is eth0 with a default route
// to the host. Forwarding is on inside the namespace so pods reach the host and beyond.
#pragma once

#include "common/context.h"
#include "common/status.h"
#include "local/node/node_spec.h"

namespace aic::node {

// Creates the namespace, the veth pair, addresses and routes. Fails with kAlreadyExists when
// the namespace exists (a previous node was not torn down); undoes its own steps on failure.
Status CreateNodeNetwork(const Context& ctx, const NodeSpec& spec);

// Deletes the namespace name and the host veth; the namespace itself disappears once no
// process and no mount holds it. Missing pieces are not an error.
Status DeleteNodeNetwork(const Context& ctx, const NodeSpec& spec);

// Turns on IPv4 forwarding in the host namespace, which carries traffic between nodes and
// between pods on different nodes. Returns the previous value ("0" or "1") so the cluster's
// teardown can restore it.
Result<std::string> EnableHostForwarding();
Status SetHostForwarding(const std::string& value);

bool NetnsExists(const NodeSpec& spec);
bool HostVethExists(const NodeSpec& spec);

// The alias of a host link: for a node's host veth, the directory of the node it joins (its
// owner). Empty when the link or its alias is missing.
std::string LinkAlias(const std::string& link);

}  // namespace aic::node
