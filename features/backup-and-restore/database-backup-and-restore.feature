@runbook:database-backup @runbook:data-volume-backup @runbook:restore-from-backup @destructive @slow
Feature: Database and data volume backup and restore round trip
  A backup is proven only by a restore: make real data with the engine, back up the database and the
  data files the rows point at, destroy both, restore, and compare every table and every file.

  Background:
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 3 times
    And persist and uniek rows exist
    And every table and every data file is fingerprinted

  Scenario: mysqldump backup restored with mysql
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        mysqldump -h kona.db.pminc.me -u botsedi botsedi_data \
        > backup-$(date +%Y%m%d).sql
      """
    And the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        tar -C /home/bots/.bots --exclude=botssys/logging -czf - botssys > bots-data-$(date +%Y%m%d).tar.gz
      """
    And the database and the data files are destroyed
    And the operator runs:
      """
      kubectl exec -i -n edi deployment/bots-webserver -- \
        mysql -h kona.db.pminc.me -u botsedi botsedi_data \
        < backup-$(date +%Y%m%d).sql
      """
    And the operator runs:
      """
      kubectl exec -i -n edi deployment/bots-webserver -- \
        tar -C /home/bots/.bots -xzf - < bots-data-$(date +%Y%m%d).tar.gz
      """
    Then every table's row count and checksum and every data file equal the originals
    And GET /health/ready answers 200 within 1m
    And the web UI shows the restored transactions

  Scenario: dumpdata backup restored with loaddata
    When the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        python manage.py dumpdata \
        --exclude auth.permission \
        --exclude contenttypes \
        > backup-$(date +%Y%m%d).json
      """
    And the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        tar -C /home/bots/.bots --exclude=botssys/logging -czf - botssys > bots-data-$(date +%Y%m%d).tar.gz
      """
    And the database and the data files are destroyed
    And the operator runs:
      """
      kubectl exec -n edi deployment/bots-webserver -- \
        python -m botsedi.initdb
      kubectl exec -i -n edi deployment/bots-webserver -- \
        python manage.py loaddata < backup-$(date +%Y%m%d).json
      """
    And the operator runs:
      """
      kubectl exec -i -n edi deployment/bots-webserver -- \
        tar -C /home/bots/.bots -xzf - < bots-data-$(date +%Y%m%d).tar.gz
      """
    Then every table's row count and checksum and every data file equal the originals, except what migrate rebuilds
    And GET /health/ready answers 200 within 1m
    And the web UI shows the restored transactions
