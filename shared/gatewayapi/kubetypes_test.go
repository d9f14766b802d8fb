package gatewayapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestKubeTypesMatchUpstream holds Sluice's declarations of Service,
// Namespace and EndpointSlice to k8s.io/api's. A document with every
// upstream field set, generated from the upstream type, decodes strictly
// into both and re-encodes to the same JSON; and the reverse, a document
// with every field of Sluice's type set, decodes strictly into the
// upstream type. A field left out, misnamed or of another value type
// fails one direction or the other.
func TestKubeTypesMatchUpstream(t *testing.T) {
	tests := []struct {
		name      string
		upstream  func() any
		ours      func() any
		wantField string // a field the filled document must show, proving the fill went deep
	}{
		{"Service", func() any { return new(corev1.Service) }, func() any { return new(Service) },
			`"ipMode":`},
		{"Namespace", func() any { return new(corev1.Namespace) }, func() any { return new(Namespace) },
			`"lastTransitionTime":`},
		{"EndpointSlice", func() any { return new(discoveryv1.EndpointSlice) }, func() any { return new(EndpointSlice) },
			`"forNodes":`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" from upstream", func(t *testing.T) {
			doc := filled(t, tt.upstream())
			if !bytes.Contains(doc, []byte(tt.wantField)) {
				t.Fatalf("the filled document lacks %s: %s", tt.wantField, doc)
			}
			up, our := reencode(t, doc, tt.upstream()), reencode(t, doc, tt.ours())
			if !reflect.DeepEqual(up, our) {
				t.Fatalf("re-encoded differently:\nupstream %v\nsluice   %v", up, our)
			}
		})
		t.Run(tt.name+" from Sluice's", func(t *testing.T) {
			doc := filled(t, tt.ours())
			up, our := reencode(t, doc, tt.upstream()), reencode(t, doc, tt.ours())
			if !reflect.DeepEqual(up, our) {
				t.Fatalf("re-encoded differently:\nupstream %v\nsluice   %v", up, our)
			}
		})
	}
}

// TestKubeTypesEmpty: an object with nothing but its name encodes as
// k8s.io/api's does, empty spec and status included, so what the admin
// API stored before still compares equal.
func TestKubeTypesEmpty(t *testing.T) {
	tests := []struct {
		name     string
		upstream any
		ours     any
	}{
		{"Service", &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, &Service{ObjectMeta: metav1.ObjectMeta{Name: "a"}}},
		{"Namespace", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, &Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}},
		{"EndpointSlice", &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, &EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, err := json.Marshal(tt.upstream)
			if err != nil {
				t.Fatal(err)
			}
			our, err := json.Marshal(tt.ours)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(up, our) {
				t.Fatalf("encoded %s, want %s", our, up)
			}
		})
	}
}

// reencode decodes doc strictly into v and returns v encoded again, as a
// generic map.
func reencode(t *testing.T, doc []byte, v any) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%T refuses the document: %v\n%s", v, err, doc)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// filled sets every field reachable from v to a value other than its zero
// and returns v encoded.
func filled(t *testing.T, v any) []byte {
	t.Helper()
	fill(reflect.ValueOf(v).Elem(), 0)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	timeType     = reflect.TypeFor[metav1.Time]()
	microType    = reflect.TypeFor[metav1.MicroTime]()
	intstrType   = reflect.TypeFor[intstr.IntOrString]()
	fieldsV1Type = reflect.TypeFor[metav1.FieldsV1]()
)

// fill sets v, and everything under it, to values that survive a JSON
// round trip: strings named by depth, numbers too big for a narrower
// type, true, one-element slices
// and maps, allocated pointers. The types with their own JSON form get a
// valid value of that form.
func fill(v reflect.Value, depth int) {
	if depth > 12 {
		return
	}
	switch v.Type() {
	case timeType:
		v.Set(reflect.ValueOf(metav1.NewTime(time.Date(2026, 11, 2, 9, 14, 7, 0, time.UTC))))
		return
	case microType:
		v.Set(reflect.ValueOf(metav1.NewMicroTime(time.Date(2026, 11, 2, 9, 14, 7, 123456000, time.UTC))))
		return
	case intstrType:
		v.Set(reflect.ValueOf(intstr.FromString("http")))
		return
	case fieldsV1Type:
		v.Set(reflect.ValueOf(*metav1.NewFieldsV1(`{"f:metadata":{}}`)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1<<(v.Type().Bits()-2) + int64(depth)) // too big for a narrower type
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1<<(v.Type().Bits()-1) + uint64(depth))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}
