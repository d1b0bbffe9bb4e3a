//! Names StackQL's Google provider gives by hand, where its rules would say
//! something else. Data, not code: each table is checked against the pinned
//! Discovery documents and StackQL's resource list by the provider tests.

/// Resource names by Discovery method id, or by a collection's id (a method
/// id without its action) for all of its methods:
/// `bigquery.jobs.getQueryResults` is read as `google.bigquery.query_results`.
#[rustfmt::skip]
pub const RESOURCE_BY_METHOD: &[(&str, &str)] = &[
    ("aiplatform.projects.locations.featureGroups.features.operations.listWait", "feature_group_operations"),
    ("aiplatform.projects.locations.metadataStores.contexts.queryContextLineageSubgraph", "context_lineage_subgraph"),
    ("aiplatform.projects.locations.metadataStores.executions.queryExecutionInputsAndOutputs", "execution_lineage_subgraph"),
    ("aiplatform.projects.locations.models.deleteVersion", "model_versions"),
    ("aiplatform.projects.locations.ragCorpora.ragFiles.operations", "rag_file_operations"),
    ("aiplatform.projects.locations.studies.trials.listOptimalTrials", "optimal_trials"),
    ("apigee.organizations.envgroups.getDeployedIngressConfig", "envgroup_config"),
    ("apigee.organizations.environments.apis.revisions.debugsessions.data", "debugsession_data"),
    ("apigee.organizations.environments.apis.revisions.debugsessions.deleteData", "debugsession_data"),
    ("apigee.organizations.environments.getApiSecurityRuntimeConfig", "api_security_runtime_config"),
    ("apigee.organizations.environments.getDeployedConfig", "environment_config"),
    ("apigee.organizations.environments.getSecurityActionsConfig", "security_actions_config"),
    ("apigee.organizations.environments.updateSecurityActionsConfig", "security_actions_config"),
    ("apigee.organizations.getDeployedIngressConfig", "ingress_config"),
    ("apigeeregistry.projects.locations.apis.deployments.deleteRevision", "deployment_revisions"),
    ("apigeeregistry.projects.locations.apis.deployments.listRevisions", "deployment_revisions"),
    ("apigeeregistry.projects.locations.apis.versions.specs.deleteRevision", "spec_revisions"),
    ("apigeeregistry.projects.locations.apis.versions.specs.listRevisions", "spec_revisions"),
    ("apikeys.projects.locations.keys.getKeyString", "key_strings"),
    ("apim.projects.locations.getEntitlement", "entitlements"),
    ("appengine.apps.listRuntimes", "runtimes"),
    ("baremetalsolution.projects.locations.networks.listNetworkUsage", "network_usage"),
    ("batch.projects.locations.state.report", "agent_state_report"),
    ("bigquery.jobs.getQueryResults", "query_results"),
    ("cloudasset.batchGetAssetsHistory", "asset_history"),
    ("cloudasset.effectiveIamPolicies.batchGet", "cloudasset_iam_policies"),
    ("cloudcontrolspartner.organizations.locations.customers.workloads.getEkmConnections", "ekm_connections"),
    ("cloudcontrolspartner.organizations.locations.customers.workloads.getPartnerPermissions", "partner_permissions"),
    ("cloudshell.users.environments.addPublicKey", "public_keys"),
    ("cloudshell.users.environments.removePublicKey", "public_keys"),
    ("cloudtrace.projects.traces.spans.createSpan", "spans"),
    ("composer.projects.locations.environments.fetchDatabaseProperties", "database_properties"),
    ("compute.globalNetworkEndpointGroups.listNetworkEndpoints", "network_endpoints"),
    ("compute.instances.getEffectiveFirewalls", "effective_firewalls"),
    ("compute.instances.getShieldedInstanceIdentity", "shielded_instance_identity"),
    ("compute.networkEndpointGroups.listNetworkEndpoints", "network_endpoints"),
    ("compute.networkFirewallPolicies.addPacketMirroringRule", "packet_mirroring_rule"),
    ("compute.networkFirewallPolicies.getPacketMirroringRule", "packet_mirroring_rule"),
    ("compute.networkFirewallPolicies.patchPacketMirroringRule", "packet_mirroring_rule"),
    ("compute.networkFirewallPolicies.removePacketMirroringRule", "packet_mirroring_rule"),
    ("compute.regionNetworkEndpointGroups.listNetworkEndpoints", "network_endpoints"),
    ("compute.regionNetworkFirewallPolicies.getEffectiveFirewalls", "effective_firewalls"),
    ("compute.routers.getNatIpInfo", "router_nat_ip_info"),
    ("compute.routers.getNatMappingInfo", "router_nat_mapping_info"),
    ("compute.routers.getRoutePolicy", "route_policies"),
    ("compute.routers.getRouterStatus", "router_status"),
    ("compute.routers.listBgpRoutes", "router_bgp_routes"),
    ("compute.routers.listRoutePolicies", "route_policies"),
    ("compute.securityPolicies.listPreconfiguredExpressionSets", "security_policies_expression_sets"),
    ("container.projects.locations.clusters.fetchClusterUpgradeInfo", "cluster_upgrade_info"),
    ("container.projects.locations.clusters.nodePools.fetchNodePoolUpgradeInfo", "node_pool_upgrade_info"),
    ("container.projects.zones.clusters.fetchClusterUpgradeInfo", "cluster_upgrade_info"),
    ("container.projects.zones.clusters.nodePools.fetchNodePoolUpgradeInfo", "node_pool_upgrade_info"),
    ("containeranalysis.projects.locations.occurrences.getVulnerabilitySummary", "vulnerability_summary"),
    ("containeranalysis.projects.occurrences.getVulnerabilitySummary", "vulnerability_summary"),
    ("contentwarehouse.projects.locations.documents.fetchAcl", "acls"),
    ("contentwarehouse.projects.locations.documents.setAcl", "acls"),
    ("developerconnect.projects.locations.connections.fetchGitHubInstallations", "github_installations"),
    ("developerconnect.projects.locations.connections.fetchLinkableGitRepositories", "linkable_git_repositories"),
    ("discoveryengine.projects.locations.collections.dataStores.operations", "data_store_operations"),
    ("discoveryengine.projects.locations.collections.dataStores.siteSearchEngine.operations", "search_engine_operations"),
    ("discoveryengine.projects.locations.collections.dataStores.siteSearchEngine.targetSites.operations", "target_site_operations"),
    ("healthcare.projects.locations.datasets.dicomStores.dicomWeb.studies.getStudyMetrics", "study_metrics"),
    ("healthcare.projects.locations.datasets.dicomStores.dicomWeb.studies.series.getSeriesMetrics", "series_metrics"),
    ("healthcare.projects.locations.datasets.dicomStores.getDICOMStoreMetrics", "dicom_store_metrics"),
    ("healthcare.projects.locations.datasets.fhirStores.getFHIRStoreMetrics", "fhir_store_metrics"),
    ("healthcare.projects.locations.datasets.fhirStores.operations.get-fhir-operation-status", "fhir_operation_status"),
    ("healthcare.projects.locations.datasets.hl7V2Stores.getHL7v2StoreMetrics", "hl7_v2_store_metrics"),
    ("iam.locations.workforcePools.providers", "workforce_pool_providers"),
    ("iam.locations.workforcePools.providers.keys", "workforce_pool_provider_keys"),
    ("iam.locations.workforcePools.subjects", "workforce_pool_subjects"),
    ("iam.projects.locations.oauthClients.credentials", "oauth_client_credentials"),
    ("iam.projects.locations.workloadIdentityPools.providers", "workload_identity_pool_providers"),
    ("iam.projects.locations.workloadIdentityPools.providers.keys", "workload_identity_pool_provider_keys"),
    ("iam.projects.serviceAccounts.keys", "service_account_keys"),
    ("iamcredentials.locations.workforcePools.getAllowedLocations", "allowed_locations"),
    ("iamcredentials.projects.locations.workloadIdentityPools.getAllowedLocations", "allowed_locations"),
    ("iamcredentials.projects.serviceAccounts.getAllowedLocations", "allowed_locations"),
    ("iap.getIapSettings", "iap_settings"),
    ("iap.updateIapSettings", "iap_settings"),
    ("integrations.projects.locations.connections.getConnectionSchemaMetadata", "connection_schema_metadata"),
    ("servicenetworking.services.dnsRecordSets.get", "dns_record_set"),
];

/// Services whose methods StackQL always names in full
/// (`projects_locations_clusters_list`), variants or not.
pub const FULL_METHOD_NAMES: &[&str] = &[
    "accessapproval",
    "analyticshub",
    "apigee",
    "apigeeregistry",
    "beyondcorp",
    "bigquerydatatransfer",
    "cloudbuild",
    "container",
    "containeranalysis",
    "datacatalog",
    "dataflow",
    "datalabeling",
    "dataplex",
    "dataproc",
    "dialogflow",
    "discoveryengine",
    "dlp",
    "documentai",
    "essentialcontacts",
    "gkehub",
    "gkeonprem",
    "integrations",
    "logging",
    "ml",
    "monitoring",
    "networksecurity",
    "orgpolicy",
    "policysimulator",
    "prod_tt_sasportal",
    "pubsub",
    "pubsublite",
    "recommendationengine",
    "recommender",
    "resourcesettings",
    "retail",
    "sasportal",
    "securitycenter",
    "spanner",
    "translate",
    "videointelligence",
    "vision",
];

/// The resource StackQL puts a method in by hand, if it does: by the
/// method's id, else by its collection's.
pub fn resource_for_method(id: &str) -> Option<&'static str> {
    let collection = id.rsplit_once('.').map_or("", |(c, _)| c);
    let by = |key: &str| {
        RESOURCE_BY_METHOD
            .iter()
            .find(|(m, _)| *m == key)
            .map(|(_, r)| *r)
    };
    by(id).or_else(|| by(collection))
}

pub fn full_method_names(service: &str) -> bool {
    FULL_METHOD_NAMES.contains(&service)
}
