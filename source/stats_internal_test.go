package source

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
)

// addStats sums every field of Stats but State: a field added to Stats and forgotten there fails this.
func TestAddStatsSumsEveryField(t *testing.T) {
	var one Stats
	v := reflect.ValueOf(&one).Elem()
	for i := range v.NumField() {
		setOne(t, v.Type().Field(i).Name, v.Field(i))
	}
	one.State = StateClosed // a socket down makes the pool's State its state
	var sum Stats
	sum.State = StateOpen
	addStats(&sum, &one)
	addStats(&sum, &one)
	s := reflect.ValueOf(sum)
	for i := range s.NumField() {
		name := s.Type().Field(i).Name
		if name == "State" {
			continue
		}
		assert.Equal(t, "2", sumOf(s.Field(i)), name)
	}
	assert.Equal(t, one.State, sum.State)
}

// setOne sets every number in f to 1 and every string to "x"; a slice gets one such element.
func setOne(t *testing.T, name string, f reflect.Value) {
	switch f.Kind() {
	case reflect.Int, reflect.Int64:
		f.SetInt(1)
	case reflect.Uint8, reflect.Uint64:
		f.SetUint(1)
	case reflect.Array:
		for j := range f.Len() {
			setOne(t, name, f.Index(j))
		}
	case reflect.String:
		f.SetString("x")
	case reflect.Struct:
		for j := range f.NumField() {
			setOne(t, name, f.Field(j))
		}
	case reflect.Slice: // one element, the same in both: summed into one
		f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		setOne(t, name, f.Index(0))
	default:
		t.Fatalf("Stats.%s: a %v: teach addStats and this test to sum it", name, f.Kind())
	}
}

// sumOf is "2" when every number in f is 2, every string "x", and a slice has one element.
func sumOf(f reflect.Value) string {
	switch f.Kind() {
	case reflect.Int, reflect.Int64:
		if f.Int() == 2 {
			return "2"
		}
	case reflect.Uint64:
		if f.Uint() == 2 {
			return "2"
		}
	case reflect.Array, reflect.Slice:
		if f.Kind() == reflect.Slice && f.Len() != 1 {
			return "not one element"
		}
		for j := range f.Len() {
			if sumOf(f.Index(j)) != "2" {
				return "not 2"
			}
		}
		return "2"
	case reflect.String:
		if f.String() == "x" {
			return "2" // kept
		}
	case reflect.Struct:
		for j := range f.NumField() {
			if sumOf(f.Field(j)) != "2" {
				return "not 2"
			}
		}
		return "2"
	}
	return f.String()
}
