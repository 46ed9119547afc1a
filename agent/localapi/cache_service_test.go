package localapi

import (
	"reflect"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/status"
)

// TestSameServiceComparesEveryField: the cached service part is reused
// only while sameService says nothing changed, so a field it does not
// compare would freeze in every status answer. Each field of Service,
// Health and SinkHealth is changed on its own and must be noticed.
func TestSameServiceComparesEveryField(t *testing.T) {
	base := status.Service{Running: true, StartedAt: time.Unix(100, 0), Health: status.Health{
		OK: true, State: "ok", Problems: []string{"p"},
		Sinks: []status.SinkHealth{{Name: "syslog", LastSuccess: time.Unix(200, 0)}},
	}}
	if !sameService(base, base) {
		t.Fatal("a service is not the same as itself")
	}
	changed := func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Uint64:
			v.SetUint(v.Uint() + 1)
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), v.Len()+1, v.Len()+1))
		case reflect.Struct:
			if tm, ok := v.Interface().(time.Time); ok {
				v.Set(reflect.ValueOf(tm.Add(time.Second)))
				return true
			}
			return false // Service.Health: checked field by field below
		default:
			t.Fatalf("field kind %v: teach this test to change it", v.Kind())
		}
		return true
	}
	check := func(name string, get func(*status.Service) reflect.Value) {
		for i := range get(&base).NumField() {
			b := base
			b.Health.Sinks = append([]status.SinkHealth(nil), base.Health.Sinks...)
			b.Health.Problems = append([]string(nil), base.Health.Problems...)
			if !changed(get(&b).Field(i)) {
				continue
			}
			if sameService(base, b) {
				t.Errorf("%s.%s changed, sameService says the same", name, get(&b).Type().Field(i).Name)
			}
		}
	}
	check("Service", func(s *status.Service) reflect.Value { return reflect.ValueOf(s).Elem() })
	check("Health", func(s *status.Service) reflect.Value { return reflect.ValueOf(&s.Health).Elem() })
	check("SinkHealth", func(s *status.Service) reflect.Value { return reflect.ValueOf(&s.Health.Sinks[0]).Elem() })
}
