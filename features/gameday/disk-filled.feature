@gameday @destructive @runbook:disk-space-full
Feature: Game day: the data volume filled
  A bounded filler file among Bots' data takes the volume past 90% (never more than the environment's
  live.max_fill_megabytes, and always removed). The runbook's usage check finds it; its large-file check lists
  nothing as written (the glob is expanded on the operator's machine), the verified runbook's `sh -c` form finds
  it; its cleanup only removes `*.old` files older than 30 days, so it frees nothing of a sudden fill, and the
  file is removed by hand.

  Scenario: A filler takes the volume past 90%; the runbook's checks find it; its cleanup does not free it
    Given the live deployment is healthy
    When the fault "the data volume filled past 90%" is injected
    And the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then its output shows the data volume at least 90% full
    And the fault is detected by that check
    When the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- du -sh /home/bots/.bots/* | sort -hr | head -20"
    Then its output contains "cannot access '/home/bots/.bots/*'"
    And the runbook's "Disk Space Full: find large files" does not work as written: the operator's shell, not the pod's, expands /home/bots/.bots/*, so du gets the pattern itself
    When the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- sh -c 'du -sh /home/bots/.bots/*' | sort -hr | head -20"
    Then its output names "botssys" first
    When the on-call engineer applies the runbook's fix "kubectl exec -n edi deployment/bots-webserver -- find /home/bots/.bots/botssys/data -name "*.old" -mtime +30 -delete"
    And the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then its output shows the data volume at least 90% full
    And the runbook's "Disk Space Full: clean up old files" does not work as written: it removes only *.old files older than 30 days
    When the fault "the data volume filled past 90%" is undone by hand: the runbook's cleanup does not reach new files
    And the on-call engineer runs "kubectl exec -n edi deployment/bots-webserver -- df -h"
    Then its output shows the data volume less than 90% full
    And the live deployment recovers within 15m
    And the fault is rolled back and the state is as before it
