#include "train/history.hpp"

#include "io/hdf5.hpp"

namespace kpde::train {

std::vector<double>& History::operator[](const std::string& name) {
  for (auto& [n, v] : series_)
    if (n == name) return v;
  series_.emplace_back(name, std::vector<double>());
  return series_.back().second;
}

const std::vector<double>* History::find(const std::string& name) const {
  for (const auto& [n, v] : series_)
    if (n == name) return &v;
  return nullptr;
}

std::size_t History::size() const {
  const auto* s = find("step");
  return s ? s->size() : 0;
}

void History::save(io::H5File& file, const std::string& group) const {
  for (const auto& [name, values] : series_)
    if (!values.empty()) file.write(group + "/" + name, values, {values.size()});
}

void History::load(const io::H5File& file, const std::string& group) {
  series_.clear();
  if (!file.exists(group)) return;
  const std::string prefix = group + "/";
  for (const std::string& path : file.list_datasets(group)) {
    const std::string name = path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
    (*this)[name] = file.read(path);
  }
}

}  // namespace kpde::train
