package gatewayapi

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Groups of the Gateway API Inference Extension.
const (
	InferenceGroup         = "inference.networking.k8s.io"
	InferenceObjectiveAPIs = "inference.networking.x-k8s.io/v1alpha2"
)

// InferencePool is the inference extension's pool of model servers
// (inference.networking.k8s.io/v1). In Sluice its selector picks AIBackends
// by their labels, in the pool's namespace, and Sluice's own balancer is the
// endpoint picker: spec.endpointPickerRef is recorded, not called.
type InferencePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              InferencePoolSpec `json:"spec"`
	Status            PoolStatus        `json:"status,omitempty"`
}

// InferencePoolSpec follows the v1 API's fields.
type InferencePoolSpec struct {
	Selector          PoolSelector       `json:"selector"`
	TargetPorts       []PoolPort         `json:"targetPorts,omitempty"`
	AppProtocol       string             `json:"appProtocol,omitempty"`
	EndpointPickerRef *EndpointPickerRef `json:"endpointPickerRef,omitempty"`
}

// PoolSelector matches members by labels.
type PoolSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// PoolPort is a target port number.
type PoolPort struct {
	Number int32 `json:"number"`
}

// EndpointPickerRef names an endpoint picker extension.
type EndpointPickerRef struct {
	Group       string    `json:"group,omitempty"`
	Kind        string    `json:"kind,omitempty"`
	Name        string    `json:"name"`
	Port        *PoolPort `json:"port,omitempty"`
	FailureMode string    `json:"failureMode,omitempty"`
}

// PoolStatus reports, per parent, the pool's conditions.
type PoolStatus struct {
	Parents []PoolParentStatus `json:"parents,omitempty"`
}

// PoolParentStatus is one parent's view of the pool.
type PoolParentStatus struct {
	ParentRef  PoolParentRef      `json:"parentRef"`
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// PoolParentRef names a Gateway.
type PoolParentRef struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// InferenceObjective gives requests that name it a priority within a pool
// (inference.networking.x-k8s.io/v1alpha2): when the pool is saturated,
// lower priorities are shed first. Requests name an objective with the
// header x-gateway-inference-objective.
type InferenceObjective struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              InferenceObjectiveSpec `json:"spec"`
}

// InferenceObjectiveSpec follows the v1alpha2 API's fields.
type InferenceObjectiveSpec struct {
	Priority *int    `json:"priority,omitempty"`
	PoolRef  PoolRef `json:"poolRef"`
}

// PoolRef names an InferencePool in the objective's namespace.
type PoolRef struct {
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Name  string `json:"name"`
}
