@runbook:access-database @readonly
Feature: Access database
  An operator opens a shell in a webserver pod and queries the database there, with Django's dbshell or the
  mysql client. What they read must be what the database holds: the suite counts the same rows itself.

  Background:
    Given the Bots EDI deployment is healthy
    And the engine has translated the sample file "ORDERS_good.edi" 1 times
    And the database's count of ta rows is noted as <ta-count>

  Scenario: dbshell in the webserver pod answers what the database holds
    When the operator runs "kubectl exec -it -n edi deployment/bots-webserver -- bash" in a terminal and types:
      | typed                    | shows                   |
      | python manage.py dbshell | MariaDB [botsedi_data]> |
      | SELECT COUNT(*) FROM ta; | <ta-count>              |
      | exit                     | Bye                     |
      | exit                     |                         |

  Scenario: The mysql client asks for the password; without -p it logs in with the pod's MYSQL_PWD
    When the operator runs "kubectl exec -it -n edi deployment/bots-webserver -- bash" in a terminal and types:
      | typed                                                | shows                   |
      | mysql -h kona.db.pminc.me -u botsedi -p botsedi_data | Enter password:         |
      | <database-password>                                  | MariaDB [botsedi_data]> |
      | SELECT COUNT(*) FROM ta;                             | <ta-count>              |
      | exit                                                 | Bye                     |
      | mysql -h kona.db.pminc.me -u botsedi botsedi_data    | MariaDB [botsedi_data]> |
      | SELECT COUNT(*) FROM ta;                             | <ta-count>              |
      | exit                                                 | Bye                     |
      | exit                                                 |                         |
    Then the terminal did not show the database password
