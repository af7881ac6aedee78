@runbook:database-backup
Feature: Database backup

  @destructive @slow
  Scenario: Install the nightly backup CronJob
    When the operator runs:
      """
      kubectl apply -f - <<EOF
      apiVersion: batch/v1
      kind: CronJob
      metadata:
        name: bots-db-backup
        namespace: edi
      spec:
        schedule: "0 2 * * *"  # 2 AM daily
        jobTemplate:
          spec:
            template:
              spec:
                containers:
                - name: backup
                  command:
                  - /bin/bash
                  - -c
                  - |
                    DATE=\$(date +%Y%m%d-%H%M%S)
                    python manage.py dumpdata > /backup/backup-\${DATE}.json
      EOF
      """
    Then the CronJob bots-db-backup exists

  Scenario: Dump the database by hand
    When the operator runs:
      """
      # the environment's database host, as the kind environment names it
      kubectl exec -n edi deployment/bots-webserver -- \
        mysqldump -h bots-mysql -u botsedi -p botsedi_data \
        > backup-$(date +%Y%m%d).sql
      """
    And the operator runs "kubectl get pods -n edi -o wide"
    Then the dump file holds the EDI tables
