"""AWS Lambda: functions that really run, as local processes speaking the Lambda Runtime API."""
