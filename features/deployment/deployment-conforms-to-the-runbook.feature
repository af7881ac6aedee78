@runbook:what-the-deployment-provides @readonly @shipped
Feature: Deployment conforms to the runbook
  What the runbook's procedures rely on, read from the live objects as `make deploy` left them, before
  the suite's known state suspends, scales or re-applies anything. Each expectation is written here; a
  failure names the object, the field, the value found and the value expected.

  Scenario: The engine runs on its schedule, one engine at a time
    Then the live objects have:
      | object              | field                  | expected      |
      | cronjob/bots-engine | spec.schedule          | "*/5 * * * *" |
      | cronjob/bots-engine | spec.suspend           | false         |
      | cronjob/bots-engine | spec.concurrencyPolicy | Forbid        |

  Scenario: A restart keeps the webserver serving; the job queue never runs twice
    Then the live objects have:
      | object                    | field                                      | expected      |
      | deployment/bots-webserver | spec.replicas                              | 2             |
      | deployment/bots-webserver | spec.strategy.type                         | RollingUpdate |
      | deployment/bots-webserver | spec.strategy.rollingUpdate.maxSurge       | 1             |
      | deployment/bots-webserver | spec.strategy.rollingUpdate.maxUnavailable | 0             |
      | deployment/bots-jobqueue  | spec.replicas                              | 1             |
      | deployment/bots-jobqueue  | spec.strategy.type                         | Recreate      |

  Scenario: Every component works on the data volume the backups cover
    Then every Bots EDI workload mounts claim bots-edi-data-pvc at /home/bots/.bots

  Scenario: The Certificate the renewal procedure annotates is the one the Ingress's TLS comes from
    Then the target's own manifests have:
      | object                       | field                | expected         |
      | certificate/bots-edi-ingress | spec.secretName      | bots-edi-tls     |
      | certificate/bots-edi-ingress | spec.issuerRef.kind  | ClusterIssuer    |
      | certificate/bots-edi-ingress | spec.issuerRef.name  | letsencrypt-prod |

  Scenario: The Ingress routes the site to the webserver, with TLS from the Certificate's Secret
    Then every Ingress routes to a port its Service has, with TLS from a Secret a Certificate issues

  Scenario: The probes check health, with the documented timings
    Then the live objects have:
      | object                    | field                                                        | expected        |
      | deployment/bots-webserver | pod.containers[webserver].startupProbe.httpGet.path          | /health/startup |
      | deployment/bots-webserver | pod.containers[webserver].startupProbe.periodSeconds         | 5               |
      | deployment/bots-webserver | pod.containers[webserver].startupProbe.failureThreshold      | 60              |
      | deployment/bots-webserver | pod.containers[webserver].readinessProbe.httpGet.path        | /health/ready   |
      | deployment/bots-webserver | pod.containers[webserver].readinessProbe.periodSeconds       | 10              |
      | deployment/bots-webserver | pod.containers[webserver].readinessProbe.failureThreshold    | 3               |
      | deployment/bots-webserver | pod.containers[webserver].livenessProbe.httpGet.path         | /health/live    |
      | deployment/bots-webserver | pod.containers[webserver].livenessProbe.periodSeconds        | 20              |
      | deployment/bots-webserver | pod.containers[webserver].livenessProbe.failureThreshold     | 3               |
      | deployment/bots-jobqueue  | pod.containers[jobqueue].readinessProbe                      | (set)           |

  Scenario: Every container runs locked down, with its resources set
    Then every pod template of every Bots EDI workload has:
      | field                        | expected |
      | securityContext.runAsNonRoot | true     |
    And every container of every Bots EDI workload has:
      | field                                    | expected |
      | securityContext.allowPrivilegeEscalation | false    |
      | securityContext.readOnlyRootFilesystem   | true     |
      | securityContext.privileged               | (absent) |
      | securityContext.capabilities.drop        | [ALL]    |
      | securityContext.capabilities.add         | (absent) |
      | resources.requests.cpu                   | (set)    |
      | resources.requests.memory                | (set)    |
      | resources.limits.cpu                     | (set)    |
      | resources.limits.memory                  | (set)    |
      | resources.limits.ephemeral-storage       | (set)    |
