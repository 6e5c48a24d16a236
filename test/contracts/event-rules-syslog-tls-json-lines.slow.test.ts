/** The event rules through syslog over TLS, the events as MSG (json-lines). */
import { eventRulesContract } from './event-rules-contract.js';
import { syslogTlsDoor } from './syslog-register-doors.js';

eventRulesContract(syslogTlsDoor('json-lines'));
