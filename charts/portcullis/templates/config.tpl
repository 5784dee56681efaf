{{/*
The gateway's configuration file: what the values set, plus the keys a
cluster install needs, then `config` merged over it. Keys the values do not
name are left out, so the schema's defaults apply (a new config key with a
default needs no chart change).
*/}}
{{- define "portcullis.config" -}}
{{- $v := .Values -}}
{{- $proxy := dict -}}
{{- if ne $v.edge.clientIp.mode "local" -}}
{{- $proxy = dict "proxy" (dict "trustedCidrs" $v.edge.clientIp.trustedCidrs "required" true) -}}
{{- end -}}
{{- $listener := dict "host" "0.0.0.0" -}}
{{- $smtp := dict
  "mx" (merge (dict "enabled" true "listen" (merge (dict "port" 2525) $listener)) $proxy)
  "submission" (merge (dict "enabled" $v.submission.enabled "listen" (merge (dict "port" 2587) $listener)) $proxy)
  "submissions" (merge (dict "enabled" $v.submission.enabled "listen" (merge (dict "port" 2465) $listener)) $proxy) -}}
{{- $kafka := dict "brokers" $v.kafka.brokers "ssl" $v.kafka.ssl "createTopics" (eq $v.kafka.topics "app")
  "partitions" (int (include "portcullis.partitions" .)) "replicationFactor" (int $v.kafka.replicationFactor) -}}
{{- if $v.kafka.sasl.mechanism -}}
{{- $_ := set $kafka "sasl" (dict "mechanism" $v.kafka.sasl.mechanism "username" $v.kafka.sasl.username "passwordFile" "/etc/portcullis/secrets/kafka/password") -}}
{{- end -}}
{{- $redis := dict "url" $v.redis.url -}}
{{- if or $v.redis.passwordSecret.name $v.redis.password -}}
{{- $_ := set $redis "passwordFile" "/etc/portcullis/secrets/redis/password" -}}
{{- end -}}
{{- $values := include "portcullis.login" . | fromYaml -}}
{{- $login := dict "source" $values.source -}}
{{- if eq $values.source "file" }}{{ $_ := set $login "file" (dict "path" "/etc/portcullis/users/users.yaml") }}{{ end -}}
{{- if eq $values.source "passthrough" }}{{ $_ := set $login "passthrough" $values.passthrough }}{{ end -}}
{{- $tls := dict -}}
{{- if include "portcullis.hasTls" . -}}
{{- $tls = dict "certificates" (list (dict "certFile" "/etc/portcullis/tls/tls.crt" "keyFile" "/etc/portcullis/tls/tls.key")) -}}
{{- end -}}
{{- $config := dict
  "hostname" $v.hostname
  "domains" $v.domains
  "smtp" $smtp
  "tls" $tls
  "login" $login
  "http" (include "portcullis.httpConfig" . | fromYaml)
  "bus" (dict "kind" "kafka" "kafka" $kafka)
  "state" (dict "kind" "redis" "redis" $redis)
  "kubernetes" (dict "leaderElection" (dict "enabled" $v.leaderElection.enabled))
  "log" (dict "level" $v.logLevel) -}}
{{- toYaml (mergeOverwrite $config (deepCopy $v.config)) -}}
{{- end -}}


{{/* The config's http section: health and metrics on 8025; the admin API on 8026 only when enabled. */}}
{{- define "portcullis.httpConfig" -}}
{{- $http := dict "listen" (dict "host" "0.0.0.0" "port" 8025) -}}
{{- if .Values.admin.enabled -}}
{{- $_ := set $http "admin" (dict "enabled" true "listen" (dict "host" "0.0.0.0" "port" 8026) "tokenFile" "/etc/portcullis/secrets/admin/token") -}}
{{- end -}}
{{- toYaml $http -}}
{{- end -}}
