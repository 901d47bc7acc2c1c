#pragma once
// RAII for the HDF5 C API: an hid_t closed with its matching H5*close, and a scope in which
// HDF5's automatic error-stack printing is off (failures are reported by our own exceptions).
#include <hdf5.h>

namespace stagesim::data {

class Hdf5Handle {
 public:
  Hdf5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Hdf5Handle() {
    if (id_ >= 0) close_(id_);
  }
  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Restores the previous printer on exit, also when we throw (the H5E_BEGIN_TRY macros would not).
class Hdf5QuietErrors {
 public:
  Hdf5QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Hdf5QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  Hdf5QuietErrors(const Hdf5QuietErrors&) = delete;
  Hdf5QuietErrors& operator=(const Hdf5QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

}  // namespace stagesim::data
