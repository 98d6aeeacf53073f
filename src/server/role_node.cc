#include "server/role_node.h"

#include "server/acquirer_node.h"
#include "server/demo_node.h"
#include "server/issuer_node.h"
#include "server/network_node.h"

namespace tapstack::server {

Result<demo::DemoNetwork> LoadConfiguredSeed(const ServeConfig& config) {
  std::filesystem::path seed = config.seed_file;
  if (seed.empty()) {
    TS_ASSIGN_OR_RETURN(seed, demo::DefaultSeedPath());
  }
  return demo::LoadDemoNetwork(seed);
}

Result<std::unique_ptr<RoleNode>> StartRoleNode(const ServeConfig& config) {
  TS_RETURN_IF_ERROR(ValidateServeConfig(config));
  if (config.role == Role::kAll) {
    TS_ASSIGN_OR_RETURN(auto node, DemoNode::Start(config));
    return std::unique_ptr<RoleNode>(std::move(node));
  }
  TS_ASSIGN_OR_RETURN(demo::DemoNetwork demo, LoadConfiguredSeed(config));
  switch (config.role) {
    case Role::kNetwork: {
      TS_ASSIGN_OR_RETURN(auto node, NetworkNode::Start(config, demo));
      return std::unique_ptr<RoleNode>(std::move(node));
    }
    case Role::kIssuer: {
      TS_ASSIGN_OR_RETURN(auto node, IssuerNode::Start(config, demo));
      return std::unique_ptr<RoleNode>(std::move(node));
    }
    case Role::kAcquirer: {
      TS_ASSIGN_OR_RETURN(auto node, AcquirerNode::Start(config, demo));
      return std::unique_ptr<RoleNode>(std::move(node));
    }
    case Role::kAll: break;
  }
  return Internal("unhandled role");
}

}  // namespace tapstack::server
