@runbook:prometheus-queries
Feature: Prometheus queries
  The runbook's five PromQL queries, sent as written to the cluster's Prometheus (which finds the webserver pods
  by their prometheus.io annotations, and scrapes the kubelet's cAdvisor). After a known workload each returns a
  series for every pod it is about, with values that agree with the database and the pods. First the metrics
  themselves: an engine run of known files must raise each counter by what its name says.

  Scenario: After a known workload the runbook's queries agree with the database and the pods
    Given the Bots EDI deployment is healthy
    And Prometheus scrapes every webserver pod by its annotations
    When the engine runs once on 9 good orders and 1 malformed orders
    Then within 1m Prometheus counts 10 more transactions, 1 more errors and 1 more timed engine runs
    When the operator queries Prometheus:
      """
      # Transaction rate
      rate(bots_transactions_total[5m])

      # Error rate
      rate(bots_errors_total[5m]) / rate(bots_transactions_total[5m])

      # Processing time
      histogram_quantile(0.95, rate(bots_processing_duration_seconds_bucket[5m]))

      # Pod CPU usage
      container_cpu_usage_seconds_total{namespace="edi",pod=~"bots-.*"}

      # Pod memory
      container_memory_working_set_bytes{namespace="edi",pod=~"bots-.*"}
      """
    Then "Transaction rate" has a series for each webserver pod, every value above zero
    And "Error rate" equals the share of the files received in those 5 minutes that failed, as the database counts them, within 0.02
    And "Processing time" lies within the histogram bucket of the longest engine Job of those 5 minutes
    And "Pod CPU usage" has a series for each container of the running Bots EDI pods
    And "Pod memory" has a series for each container of the running Bots EDI pods
