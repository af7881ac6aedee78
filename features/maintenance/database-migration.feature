@runbook:database-migration @destructive
Feature: Database migration
  The runbook's four steps as written: a backup with dumpdata, migrate, showmigrations, and the readiness
  check. A migration is made pending first (as a release that brings new migrations finds the database),
  so migrate has work to do; the backup taken before it is then restored and compared with the data.

  Scenario: A pending migration applied; the pre-migration backup restores
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 2 times
    And a migration is pending: admin is migrated back to 0001
    And every table and every data file is fingerprinted
    When the operator runs:
      """
      # 1. Backup database
      kubectl exec -n edi deployment/bots-webserver -- \
        python manage.py dumpdata > pre-migration-backup.json
      """
    And the operator runs "kubectl exec -n edi deployment/bots-webserver -- python manage.py showmigrations"
    Then the output lists migrations of admin not applied
    When the operator runs:
      """
      # 2. Apply migrations
      kubectl exec -n edi deployment/bots-webserver -- \
        python manage.py migrate

      # 3. Verify
      kubectl exec -n edi deployment/bots-webserver -- \
        python manage.py showmigrations
      """
    Then the output lists every migration applied
    When the operator runs "curl https://bots-edi.pminc.me/health/ready"
    Then the output is a health report saying ok
    When the database is destroyed
    And the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        python -m botsedi.initdb
      kubectl exec -i -n edi deployment/bots-webserver -- \
        python manage.py loaddata < pre-migration-backup.json
      """
    Then every table's row count and checksum and every data file equal the originals, except what migrate rebuilds
