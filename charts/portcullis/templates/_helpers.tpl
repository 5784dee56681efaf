{{/* Names: <release>-portcullis (or the release name when it already says portcullis), then -<service>. */}}
{{- define "portcullis.fullname" -}}
{{- if contains "portcullis" .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-portcullis" .Release.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "portcullis.labels" -}}
app.kubernetes.io/name: portcullis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "svc" "edge") */}}
{{- define "portcullis.selector" -}}
app.kubernetes.io/name: portcullis
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc }}
{{- end -}}

{{- define "portcullis.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The topic each consumer reads (the relay also reads the retry topic). */}}
{{- define "portcullis.inputTopics" -}}
{{- $t := dict "auth" (list "portcullis.mail.accepted.v1") "reputation" (list "portcullis.mail.auth-checked.v1") "content" (list "portcullis.mail.reputation-checked.v1") "relay" (list "portcullis.mail.decided.v1" "portcullis.mail.retry.v1") -}}
{{- toJson (get $t .) -}}
{{- end -}}

{{/* The most replicas one service may run: its maxReplicas when scaled, else its replicas. */}}
{{- define "portcullis.maxReplicas" -}}
{{- if ne .autoscaling.kind "none" }}{{ .autoscaling.maxReplicas }}{{ else }}{{ .replicas }}{{ end -}}
{{- end -}}

{{/* Partitions for every topic: enough for the largest replica count of any consumer (more replicas than partitions sit idle). */}}
{{- define "portcullis.partitions" -}}
{{- $n := int .Values.kafka.partitions -}}
{{- range $svc := list "auth" "reputation" "content" "relay" -}}
{{- $m := int (include "portcullis.maxReplicas" (get $.Values.services $svc)) -}}
{{- if gt $m $n }}{{ $n = $m }}{{ end -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{- define "portcullis.secretName" -}}
{{- if .ref.name }}{{ .ref.name }}{{ else }}{{ include "portcullis.fullname" .root }}-{{ .suffix }}{{ end -}}
{{- end -}}

{{- define "portcullis.tlsSecretName" -}}
{{- if .Values.certificate.existingSecret }}{{ .Values.certificate.existingSecret }}{{ else }}{{ include "portcullis.fullname" . }}-tls{{ end -}}
{{- end -}}

{{- define "portcullis.hasTls" -}}
{{- if or .Values.certificate.enabled .Values.certificate.existingSecret }}true{{ end -}}
{{- end -}}

{{/* The admin token's Secret: the operator's (admin.existingSecret), or the one admin-token.yaml makes. */}}
{{- define "portcullis.adminSecretName" -}}
{{- if .Values.admin.existingSecret }}{{ .Values.admin.existingSecret }}{{ else }}{{ include "portcullis.fullname" . }}-admin{{ end -}}
{{- end -}}

{{/*
The login values (SMTP AUTH on submission) as YAML. `auth` is their old name: given alone it is
read as login; given together with a login that is not the default, the install fails naming both.
*/}}
{{- define "portcullis.login" -}}
{{- $login := deepCopy .Values.login -}}
{{- with .Values.auth -}}
{{- if ne (toYaml $.Values.login) (toYaml (dict "source" "none" "usersSecret" (dict "name" "" "key" "users.yaml") "users" "" "passthrough" (dict))) -}}
{{- fail "values: auth (the old name of login) and login are both given: keep only login" -}}
{{- end -}}
{{- $login = mergeOverwrite $login (deepCopy .) -}}
{{- end -}}
{{- toYaml $login -}}
{{- end -}}
